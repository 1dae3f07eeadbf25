"""The media bin: the project's imported (and generated) assets as thumbnails.

Assets are dragged from here onto timeline tracks (ASSET_MIME carries their
ids); files dragged in from the file manager ask the window to import them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from codi_studio.media.values import Modality
from codi_studio.studio import theme
from codi_studio.studio.timeline_view import ASSET_MIME

ICON_SIZE = QSize(96, 64)
ASSET_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FILE_FILTER = "Media (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff *.wav *.flac *.ogg *.mp3 *.m4a " \
              "*.mp4 *.webm *.mov *.avi *.txt);;All files (*)"


@dataclass(frozen=True)
class BinEntry:
    asset_id: int
    name: str
    modality: Modality
    detail: str  # e.g. "64x64", "1.0 s 16 kHz"
    thumbnail: QPixmap | None
    generated: bool = False


class _AssetList(QListWidget):
    filesDropped = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(ICON_SIZE)
        self.setGridSize(QSize(ICON_SIZE.width() + 16, ICON_SIZE.height() + 38))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setUniformItemSizes(True)

    def mimeTypes(self) -> list[str]:
        return [ASSET_MIME]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        mime = QMimeData()
        ids = ",".join(str(i.data(ASSET_ID_ROLE)) for i in items)
        mime.setData(ASSET_MIME, ids.encode())
        return mime

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001 - Qt event
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if event.mimeData().hasUrls():
            paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
            self.filesDropped.emit(paths)
            event.acceptProposedAction()
        else:
            event.ignore()


class MediaBin(QWidget):
    importRequested = Signal(list)  # file paths
    assetActivated = Signal(int)  # double click: show in the viewer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = _AssetList()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter media…")
        self.filter.setClearButtonEnabled(True)
        self.import_button = QPushButton("Import…")
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        self.import_button.clicked.connect(self._choose_files)
        self.list.filesDropped.connect(self.importRequested)
        self.filter.textChanged.connect(self._apply_filter)
        self.list.itemDoubleClicked.connect(lambda item: self.assetActivated.emit(int(item.data(ASSET_ID_ROLE))))

    def set_entries(self, entries: Sequence[BinEntry]) -> None:
        self.list.clear()
        for e in entries:
            item = QListWidgetItem(_icon_for(e), f"{e.name}\n{e.detail}")
            item.setData(ASSET_ID_ROLE, e.asset_id)
            item.setToolTip(f"{e.name}\n{e.modality.value}, {e.detail}" + ("\ngenerated" if e.generated else ""))
            self.list.addItem(item)
        self._apply_filter(self.filter.text())

    def asset_ids(self) -> list[int]:
        return [int(self.list.item(i).data(ASSET_ID_ROLE)) for i in range(self.list.count())]

    def item_for(self, asset_id: int) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if int(self.list.item(i).data(ASSET_ID_ROLE)) == asset_id:
                return self.list.item(i)
        return None

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import media", "", FILE_FILTER)
        if paths:
            self.importRequested.emit(paths)


def _icon_for(entry: BinEntry) -> QIcon:
    canvas = QPixmap(ICON_SIZE)
    canvas.fill(QColor(30, 32, 36))
    p = QPainter(canvas)
    color = theme.MODALITY_COLORS[entry.modality]
    if entry.thumbnail is not None and not entry.thumbnail.isNull():
        scaled = entry.thumbnail.scaled(ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation)
        p.drawPixmap((ICON_SIZE.width() - scaled.width()) // 2, (ICON_SIZE.height() - scaled.height()) // 2, scaled)
    else:
        p.fillRect(canvas.rect().adjusted(6, 6, -6, -6), color.darker(160))
        p.setPen(color.lighter(140))
        p.drawText(canvas.rect(), Qt.AlignmentFlag.AlignCenter, entry.modality.value.upper())
    p.fillRect(0, ICON_SIZE.height() - 4, ICON_SIZE.width(), 4, color)
    p.end()
    return QIcon(canvas)
