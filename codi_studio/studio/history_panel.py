"""Version history of the selected output clip: every generation of it, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

VERSION_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class HistoryEntry:
    version_id: int
    title: str  # "v3"
    detail: str  # "seed 7 · ddim 20 · 12:41"
    thumbnail: QPixmap | None
    current: bool


class HistoryPanel(QWidget):
    versionPicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("Select a generated clip to see its versions.")
        self.header.setWordWrap(True)
        self.header.setStyleSheet("color: #9a9ea6;")
        self.list = QListWidget()
        self.list.setIconSize(QSize(48, 48))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(self.list, 1)
        self._loading = False
        self.list.currentItemChanged.connect(self._on_current)

    def show_versions(self, title: str, entries: Sequence[HistoryEntry]) -> None:
        self._loading = True
        self.list.clear()
        self.header.setText(title)
        for e in entries:
            item = QListWidgetItem(f"{e.title}{'  ●' if e.current else ''}\n{e.detail}")
            if e.thumbnail is not None:
                item.setIcon(QIcon(e.thumbnail))
            item.setData(VERSION_ROLE, e.version_id)
            self.list.addItem(item)
            if e.current:
                self.list.setCurrentItem(item)
        self._loading = False

    def clear_versions(self) -> None:
        self._loading = True
        self.list.clear()
        self.header.setText("Select a generated clip to see its versions.")
        self._loading = False

    def version_ids(self) -> list[int]:
        return [int(self.list.item(i).data(VERSION_ROLE)) for i in range(self.list.count())]

    def pick(self, version_id: int) -> None:
        """Selects the row of `version_id`, as a click does."""
        for i in range(self.list.count()):
            if int(self.list.item(i).data(VERSION_ROLE)) == version_id:
                self.list.setCurrentRow(i)
                return
        raise KeyError(f"version {version_id} is not in the history")

    def _on_current(self, item: QListWidgetItem | None) -> None:
        if item is not None and not self._loading:
            self.versionPicked.emit(int(item.data(VERSION_ROLE)))
