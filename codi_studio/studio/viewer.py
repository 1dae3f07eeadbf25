"""The viewer: the picture under the playhead (or a generation preview) and a transport bar."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QVBoxLayout, QWidget

from codi_studio.media.values import Image
from codi_studio.studio import theme


def image_to_qimage(image: Image) -> QImage:
    """A deep copy: the QImage must not point into numpy memory that may go away."""
    pixels = np.ascontiguousarray(image.pixels)
    h, w, _ = pixels.shape
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PictureArea(QWidget):
    """Letterboxed picture with an optional caption and a small badge (e.g. 'preview 12/20')."""

    def __init__(self) -> None:
        super().__init__()
        self._pixmap: QPixmap | None = None
        self.caption = ""
        self.badge = ""
        self.setMinimumSize(240, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: Image | None) -> None:
        self._pixmap = None if image is None else QPixmap.fromImage(image_to_qimage(image))
        self.update()

    def has_picture(self) -> bool:
        return self._pixmap is not None

    def sizeHint(self) -> QSize:
        return QSize(480, 320)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(16, 17, 19))
        caption_h = 26 if self.caption else 0
        area = self.rect().adjusted(8, 8, -8, -8 - caption_h)
        if self._pixmap is not None and area.width() > 0 and area.height() > 0:
            # pixel art from a 64x64 model: keep it crisp when scaling up
            mode = Qt.TransformationMode.FastTransformation if self._pixmap.width() < 256 \
                else Qt.TransformationMode.SmoothTransformation
            scaled = self._pixmap.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio, mode)
            x = area.left() + (area.width() - scaled.width()) // 2
            y = area.top() + (area.height() - scaled.height()) // 2
            p.drawPixmap(x, y, scaled)
        elif not self.caption:
            p.setPen(theme.DIM_TEXT)
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "No picture at the playhead")
        if self.caption:
            p.setPen(theme.TEXT_COLOR)
            p.drawText(self.rect().adjusted(10, 0, -10, -6), Qt.AlignmentFlag.AlignHCenter |
                       Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap, self.caption)
        if self.badge:
            p.setPen(QColor(255, 210, 120))
            p.drawText(self.rect().adjusted(10, 8, -10, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                       self.badge)
        p.end()


class Viewer(QWidget):
    playToggled = Signal()
    toStart = Signal()
    toEnd = Signal()
    stepFrames = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = PictureArea()
        style = self.style()
        self.start_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Go to start")
        self.back_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward), "One frame back")
        self.play_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play / pause (Space)")
        self.fwd_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "One frame on")
        self.end_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Go to end")
        self.time_label = QLabel("0:00.00 / 0:00.00")
        self.time_label.setStyleSheet("font-family: monospace; color: #d8dade;")
        self.audio_label = QLabel("")
        self.audio_label.setStyleSheet("color: #9a9ea6;")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 4)
        for b in (self.start_button, self.back_button, self.play_button, self.fwd_button, self.end_button):
            bar.addWidget(b)
        bar.addSpacing(12)
        bar.addWidget(self.time_label)
        bar.addStretch(1)
        bar.addWidget(self.audio_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.picture, 1)
        layout.addLayout(bar)
        self.play_button.clicked.connect(self.playToggled)
        self.start_button.clicked.connect(self.toStart)
        self.end_button.clicked.connect(self.toEnd)
        self.back_button.clicked.connect(lambda: self.stepFrames.emit(-1))
        self.fwd_button.clicked.connect(lambda: self.stepFrames.emit(1))

    def _button(self, icon, tip: str) -> QToolButton:  # noqa: ANN001 - QIcon
        b = QToolButton()
        b.setIcon(icon)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # space must reach the window shortcut
        return b

    def set_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def set_time(self, t: float, duration: float) -> None:
        self.time_label.setText(f"{_clock(t)} / {_clock(duration)}")

    def show_frame(self, image: Image | None, caption: str = "", badge: str = "") -> None:
        self.picture.caption = caption
        self.picture.badge = badge
        self.picture.set_image(image)


def _clock(t: float) -> str:
    minutes, seconds = divmod(max(0.0, t), 60.0)
    return f"{int(minutes)}:{seconds:05.2f}"
