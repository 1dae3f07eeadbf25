"""QGraphicsItems that draw the timeline model: clips, shots, the playhead.

Items only draw and carry the uid of what they show; all decisions (snapping,
commands) are made by the view.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from codi_studio.media.values import Modality
from codi_studio.studio import theme
from codi_studio.studio.timeline_model import OUTPUT, Clip, Shot, Track


class ClipPreviews(Protocol):
    """Where clip items get their pictures; the session implements it from the store."""

    def thumbnail(self, clip: Clip) -> QPixmap | None: ...

    def peaks(self, clip: Clip) -> np.ndarray | None: ...


class ClipItem(QGraphicsRectItem):
    EDGE_GRAB = 6.0

    def __init__(self, clip: Clip, track: Track, previews: ClipPreviews | None) -> None:
        super().__init__()
        self.uid = clip.uid
        self.clip = clip
        self.track = track
        self._previews = previews
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(10)
        # each clip is drawn once into a pixmap and blitted while scrolling; redrawn only when it changes
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setToolTip(self._tooltip())

    def _tooltip(self) -> str:
        c = self.clip
        lines = [c.label or (c.text or "") or c.uid, f"{c.start:.2f}s - {c.end:.2f}s  weight {c.weight:g}"]
        return "\n".join(lines)

    def set_clip(self, clip: Clip, track: Track) -> None:
        self.clip = clip
        self.track = track
        self.setToolTip(self._tooltip())
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self.rect().adjusted(0.5, 1.5, -0.5, -1.5)
        if r.width() < 1:
            return
        base = theme.MODALITY_COLORS[self.track.kind]
        fill = base.darker(230) if self.track.role == OUTPUT else base.darker(190)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = QPainterPath()
        path.addRoundedRect(r, 4, 4)
        painter.fillPath(path, fill)
        painter.save()
        painter.setClipRect(r.adjusted(1, 1, -1, -1))  # a rectangle clips far faster than the rounded path
        painter.fillRect(QRectF(r.left(), r.top(), r.width(), 15), base.darker(125))
        body = r.adjusted(2, 15, -2, -2)
        if self.track.kind in (Modality.IMAGE, Modality.VIDEO):
            self._paint_thumbnails(painter, body)
        elif self.track.kind == Modality.AUDIO:
            self._paint_waveform(painter, body, base.lighter(150))
        painter.restore()
        selected = self.isSelected()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(255, 220, 120) if selected else base.lighter(130), 2 if selected else 1))
        painter.drawPath(path)
        painter.setPen(theme.TEXT_COLOR)
        painter.setFont(_small_font(painter.font()))
        title = self.clip.label or ("Text" if self.track.kind == Modality.TEXT else "")
        if self.clip.weight != 1.0:
            title = f"{title}  ×{self.clip.weight:g}"
        text_rect = r.adjusted(5, 1, -4, 0)
        text_rect.setHeight(14)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, int(text_rect.width())))
        if self.track.kind == Modality.TEXT and self.clip.text and r.height() > 30:
            painter.setPen(QColor(214, 216, 220))
            painter.drawText(body.adjusted(3, 0, -2, 0), Qt.TextFlag.TextWordWrap, self.clip.text)

    def _paint_thumbnails(self, painter: QPainter, body: QRectF) -> None:
        pixmap = self._previews.thumbnail(self.clip) if self._previews else None
        if pixmap is None or pixmap.isNull() or body.height() < 4:
            return
        h = body.height()
        w = max(4.0, h * pixmap.width() / max(1, pixmap.height()))
        # draw only the tiles the exposed area shows: long clips stay cheap
        x = body.left()
        count = 0
        while x < body.right() and count < 64:
            painter.drawPixmap(QRectF(x, body.top(), w, h), pixmap, QRectF(pixmap.rect()))
            x += w + 2
            count += 1

    def _paint_waveform(self, painter: QPainter, body: QRectF, color: QColor) -> None:
        peaks = self._previews.peaks(self.clip) if self._previews else None
        if peaks is None or len(peaks) == 0 or body.width() < 2:
            return
        c = self.clip
        src = c.source_duration or c.duration
        first = int(len(peaks) * (c.in_point / src)) if src > 0 else 0
        last = int(np.ceil(len(peaks) * min(1.0, (c.in_point + c.duration) / src))) if src > 0 else len(peaks)
        visible = peaks[max(0, first): max(first + 1, last)]
        if len(visible) == 0:
            return
        columns = max(1, int(body.width()))
        idx = np.linspace(0, len(visible) - 1, columns).astype(int)
        mid = body.center().y()
        half = body.height() / 2
        lows = visible[idx, 0]
        highs = visible[idx, 1]
        top = [QPointF(body.left() + i, mid - float(highs[i]) * half) for i in range(columns)]
        bottom = [QPointF(body.left() + i, mid - float(lows[i]) * half) for i in reversed(range(columns))]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(QPolygonF(top + bottom))

    def edge_at(self, scene_x: float) -> str | None:
        rect = self.sceneBoundingRect()
        grab = min(self.EDGE_GRAB, rect.width() / 4)
        if abs(scene_x - rect.left()) <= grab:
            return "left"
        if abs(scene_x - rect.right()) <= grab:
            return "right"
        return None


_FONTS: dict[str, QFont] = {}


def _small_font(base: QFont) -> QFont:
    key = base.key()
    if key not in _FONTS:
        font = QFont(base)
        font.setPointSizeF(8.0)
        _FONTS[key] = font
    return _FONTS[key]


class ShotItem(QGraphicsRectItem):
    """A shot: a band in the shot lane and a faint wash over the tracks."""

    def __init__(self, shot: Shot) -> None:
        super().__init__()
        self.uid = shot.uid
        self.shot = shot
        self.setZValue(5)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setToolTip(self._tooltip())

    def _tooltip(self) -> str:
        s = self.shot.settings
        outs = "+".join(m.value for m in s.outputs)
        return f"{self.shot.name or 'Shot'} {self.shot.start:.2f}-{self.shot.end:.2f}s -> {outs}, seed {s.seed}"

    def set_shot(self, shot: Shot) -> None:
        self.shot = shot
        self.setToolTip(self._tooltip())
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self.rect()
        lane = QRectF(r.left(), r.top() + 2, r.width(), theme.SHOT_LANE_HEIGHT - 4)
        color = QColor(theme.SHOT_COLOR)
        wash = QColor(color)
        wash.setAlpha(22)
        painter.fillRect(QRectF(r.left(), lane.bottom() + 2, r.width(), r.height() - lane.height() - 4), wash)
        color.setAlpha(220 if self.isSelected() else 150)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(color)
        painter.setPen(QPen(QColor(255, 230, 160), 2) if self.isSelected() else Qt.PenStyle.NoPen)
        painter.drawRoundedRect(lane, 3, 3)
        painter.setPen(QColor(30, 30, 30))
        outs = "+".join(m.value for m in self.shot.settings.outputs)
        label = f"{self.shot.name or 'Shot'} → {outs}"
        painter.drawText(lane.adjusted(5, 0, -3, 0), Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, int(lane.width() - 8)))

    def shape(self) -> QPainterPath:  # only the lane band is clickable, clips below stay reachable
        path = QPainterPath()
        path.addRect(QRectF(self.rect().left(), self.rect().top(), self.rect().width(), theme.SHOT_LANE_HEIGHT))
        return path


class PlayheadItem(QGraphicsLineItem):
    def __init__(self) -> None:
        super().__init__()
        self.setPen(QPen(theme.PLAYHEAD_COLOR, 1.5))
        self.setZValue(1000)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)
