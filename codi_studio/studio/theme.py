"""Colours and sizes shared by the timeline, the bin and the viewer."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from codi_studio.media.values import Modality

MODALITY_COLORS: dict[Modality, QColor] = {
    Modality.TEXT: QColor(196, 148, 64),
    Modality.IMAGE: QColor(72, 132, 196),
    Modality.AUDIO: QColor(80, 168, 104),
    Modality.VIDEO: QColor(150, 96, 190),
}
OUTPUT_TINT = QColor(255, 255, 255, 28)
SHOT_COLOR = QColor(240, 170, 40)
PLAYHEAD_COLOR = QColor(235, 70, 60)
BACKGROUND = QColor(34, 36, 40)
TRACK_BACKGROUNDS = (QColor(44, 46, 52), QColor(40, 42, 47))
OUTPUT_TRACK_BACKGROUND = QColor(38, 44, 52)
TEXT_COLOR = QColor(230, 232, 236)
DIM_TEXT = QColor(150, 154, 162)

TRACK_HEIGHT = 46
SHOT_LANE_HEIGHT = 22
RULER_HEIGHT = 24
HEADER_WIDTH = 118


def apply_dark_palette(app: QApplication) -> None:
    """A calm dark theme, the usual look of media editors."""
    app.setStyle("Fusion")
    p = QPalette()
    p.setColor(QPalette.ColorRole.Window, QColor(45, 47, 52))
    p.setColor(QPalette.ColorRole.WindowText, TEXT_COLOR)
    p.setColor(QPalette.ColorRole.Base, QColor(32, 34, 38))
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(42, 44, 49))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(60, 62, 68))
    p.setColor(QPalette.ColorRole.ToolTipText, TEXT_COLOR)
    p.setColor(QPalette.ColorRole.Text, TEXT_COLOR)
    p.setColor(QPalette.ColorRole.Button, QColor(52, 54, 60))
    p.setColor(QPalette.ColorRole.ButtonText, TEXT_COLOR)
    p.setColor(QPalette.ColorRole.Highlight, QColor(64, 120, 200))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.PlaceholderText, DIM_TEXT)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, DIM_TEXT)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, DIM_TEXT)
    app.setPalette(p)
