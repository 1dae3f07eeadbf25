"""The job queue panel: each generation with its state, progress, ETA or error."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from codi_studio.studio.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobQueue

STATE_COLORS = {QUEUED: "#9a9ea6", RUNNING: "#7fb2ff", DONE: "#79c98a", FAILED: "#ff7a70", CANCELLED: "#c9a25a"}


class JobPanel(QWidget):
    def __init__(self, queue: JobQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Job", "State", "Progress", "Info"])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 150)
        self.tree.setColumnWidth(1, 70)
        self.tree.setColumnWidth(2, 110)
        self.cancel_button = QPushButton("Cancel")
        self.clear_button = QPushButton("Clear finished")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._items: dict[int, QTreeWidgetItem] = {}
        self._bars: dict[int, QProgressBar] = {}
        queue.jobAdded.connect(self._on_added)
        queue.jobChanged.connect(self._on_changed)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.clear_button.clicked.connect(queue.clear_finished)

    def _on_added(self, job_id: int) -> None:
        job = self.queue.job(job_id)
        item = QTreeWidgetItem([job.label, job.state, "", ""])
        item.setData(0, Qt.ItemDataRole.UserRole, job_id)
        self.tree.addTopLevelItem(item)
        bar = QProgressBar()
        bar.setRange(0, 1)
        bar.setValue(0)
        bar.setTextVisible(True)
        bar.setMaximumHeight(16)
        self.tree.setItemWidget(item, 2, bar)
        self._items[job_id] = item
        self._bars[job_id] = bar
        self._show(job)

    def _on_changed(self, job_id: int) -> None:
        if job_id == 0:  # cleared: drop rows of jobs the queue forgot
            known = {j.id for j in self.queue.jobs}
            for gone in [i for i in self._items if i not in known]:
                item = self._items.pop(gone)
                self._bars.pop(gone, None)
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
            return
        if job_id in self._items:
            self._show(self.queue.job(job_id))

    def _show(self, job: Job) -> None:
        item = self._items[job.id]
        item.setText(1, job.state)
        item.setForeground(1, _brush(STATE_COLORS[job.state]))
        bar = self._bars[job.id]
        if job.total:
            bar.setRange(0, job.total)
            bar.setValue(job.step)
            bar.setFormat(f"{job.step}/{job.total}")
        if job.state == DONE:
            bar.setRange(0, 1)
            bar.setValue(1)
            bar.setFormat("done")
        info = job.message
        if job.state == RUNNING and job.eta is not None:
            info = f"ETA {job.eta:.1f} s"
        elif job.state == DONE and job.seconds is not None:
            info = f"{job.seconds:.1f} s"
        item.setText(3, info)
        item.setToolTip(3, job.message or info)

    def _cancel_selected(self) -> None:
        items = self.tree.selectedItems()
        if not items and self.queue.running is not None:
            self.queue.cancel(self.queue.running.id)
            return
        for item in items:
            self.queue.cancel(int(item.data(0, Qt.ItemDataRole.UserRole)))

    def row_text(self, job_id: int) -> tuple[str, str, str]:
        item = self._items[job_id]
        return item.text(0), item.text(1), item.text(3)


def _brush(color: str):  # noqa: ANN202 - QBrush
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(color))
