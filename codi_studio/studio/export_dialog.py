"""The export dialog: MP4 (with mixed sound), WAV, the current frame as PNG, a project bundle, OTIO.

Rendering runs on a QThread through codi_studio.service.timeline_export (no Qt
there); the dialog shows its progress and can cancel it. Bundle and OTIO are
the store's own exports of the saved project, so the dialog saves first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import queue

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from codi_studio.service import timeline_export
from codi_studio.service.requests import CancelToken
from codi_studio.service.timeline_export import ExportCancelled, PlacedClip
from codi_studio.studio.thread_bridge import EventPump, PostingThread

FORMATS = {
    "mp4": ("Video with sound (MP4)", ".mp4"),
    "wav": ("Sound only (WAV)", ".wav"),
    "png": ("Current frame (PNG)", ".png"),
    "bundle": ("Project bundle (ZIP)", ".zip"),
    "otio": ("OpenTimelineIO (OTIO)", ".otio"),
}


def _run_export(job: Callable[[Callable[[float, str], None], CancelToken], Path], cancel: CancelToken,
                post: Callable[..., None]) -> None:
    """Runs on the export thread; reports through `post` only (see thread_bridge.py)."""
    try:
        path = job(lambda f, what: post("progress", f, what), cancel)
    except ExportCancelled:
        post("cancelled")
    except Exception as exc:  # shown in the dialog, never raised into Qt
        post("failed", f"{type(exc).__name__}: {exc}")
    else:
        post("finished", str(path))


class ExportDialog(QDialog):
    exported = Signal(str)

    def __init__(self, placed: Callable[[], list[PlacedClip]], playhead: float, duration: float,
                 save_project: Callable[[], None], export_bundle: Callable[[str], Path],
                 export_otio: Callable[[str], Path], default_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(460)
        self._placed = placed
        self._playhead = playhead
        self._save_project = save_project
        self._export_bundle = export_bundle
        self._export_otio = export_otio
        self._default_dir = default_dir
        self._thread: PostingThread | None = None
        self._cancel: CancelToken | None = None
        self._outbox: "queue.Queue[tuple]" = queue.Queue()
        self._pump = EventPump(self._outbox, {"progress": self._on_progress, "finished": self._on_finished,
                                              "failed": self._on_failed, "cancelled": self._on_cancelled}, self)
        self.last_error = ""
        self.buttons_group = QButtonGroup(self)
        self.format_buttons: dict[str, QRadioButton] = {}
        formats = QVBoxLayout()
        for key, (label, _) in FORMATS.items():
            b = QRadioButton(label)
            self.format_buttons[key] = b
            self.buttons_group.addButton(b)
            formats.addWidget(b)
        self.format_buttons["mp4"].setChecked(True)
        self.whole = QRadioButton("Whole timeline")
        self.ranged = QRadioButton("From")
        self.whole.setChecked(True)
        self.start = QDoubleSpinBox()
        self.end = QDoubleSpinBox()
        for s in (self.start, self.end):
            s.setRange(0.0, max(3600.0, duration))
            s.setDecimals(2)
            s.setSuffix(" s")
        self.end.setValue(duration)
        range_row = QHBoxLayout()
        range_row.addWidget(self.whole)
        range_row.addWidget(self.ranged)
        range_row.addWidget(self.start)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.end)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        form = QFormLayout()
        form.addRow("Format", formats)
        form.addRow("Range", range_row)
        form.addRow("File", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        browse.clicked.connect(self._browse)
        self.buttons_group.buttonToggled.connect(lambda *_: self._suggest_path())
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel_or_close)
        self._suggest_path()

    # ---- choices ----------------------------------------------------------------------------
    def fmt(self) -> str:
        return next(k for k, b in self.format_buttons.items() if b.isChecked())

    def set_format(self, key: str) -> None:
        self.format_buttons[key].setChecked(True)

    def _suggest_path(self) -> None:
        suffix = FORMATS[self.fmt()][1]
        current = self.path.text().strip()
        base = Path(current).with_suffix("") if current else self._default_dir / "export"
        self.path.setText(str(base.with_suffix(suffix)))

    def _browse(self) -> None:
        label, suffix = FORMATS[self.fmt()]
        chosen, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), f"{label} (*{suffix})")
        if chosen:
            self.path.setText(chosen)

    def _range(self) -> tuple[float | None, float | None]:
        if self.whole.isChecked():
            return None, None
        return float(self.start.value()), float(self.end.value())

    # ---- running ----------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._thread is not None

    def start_export(self) -> None:
        if self.is_running():
            return
        target = Path(self.path.text().strip()).expanduser()
        if not target.name:
            self.status.setText("Choose a file to export to.")
            return
        fmt = self.fmt()
        self.last_error = ""
        self.progress.setValue(0)
        if fmt in ("bundle", "otio"):
            try:
                self._save_project()
                written = self._export_bundle(str(target)) if fmt == "bundle" else self._export_otio(str(target))
            except Exception as exc:  # a store error: show it, keep the dialog open
                self._on_failed(f"{type(exc).__name__}: {exc}")
                return
            self.progress.setValue(1000)
            self._on_finished(str(written))
            return
        placed = self._placed()  # decoded here, on the UI thread that owns the project connection
        start, end = self._range()
        playhead = self._playhead

        def job(progress: Callable[[float, str], None], cancel: CancelToken) -> Path:
            if fmt == "mp4":
                return timeline_export.export_mp4(placed, target, start, end, progress=progress, cancel=cancel)
            if fmt == "wav":
                return timeline_export.export_wav(placed, target, start, end, progress=progress, cancel=cancel)
            return timeline_export.export_frame_png(placed, target, playhead)

        cancel = self._cancel = CancelToken()
        self._thread = PostingThread(lambda post: _run_export(job, cancel, post), self._outbox, "codi-export")
        self.export_button.setEnabled(False)
        self.status.setText("Exporting…")
        self._pump.start()
        self._thread.start()

    def cancel_or_close(self) -> None:
        if self._cancel is not None and self.is_running():
            self._cancel.cancel()
            self.status.setText("Cancelling…")
        else:
            self.reject()

    def _on_progress(self, fraction: float, what: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(what)

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread = None
        self._pump.stop()
        self.export_button.setEnabled(True)

    def _on_finished(self, path: str) -> None:
        self._stop_thread()
        self.progress.setValue(1000)
        self.status.setText(f"Exported {path}")
        self.exported.emit(path)

    def _on_failed(self, message: str) -> None:
        self._stop_thread()
        self.last_error = message
        self.status.setText(f"Export failed: {message}")

    def _on_cancelled(self) -> None:
        self._stop_thread()
        self.progress.setValue(0)
        self.status.setText("Export cancelled; nothing was written.")

    def closeEvent(self, event) -> None:  # noqa: ANN001 - Qt event
        if self._cancel is not None:
            self._cancel.cancel()
        self._stop_thread()
        super().closeEvent(event)
