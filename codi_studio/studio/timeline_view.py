"""The timeline editor: a QGraphicsView that follows a TimelineModel.

The view turns mouse and key gestures into undo commands (move, trim, split,
delete, mark shot) and asks the window, through signals, for what needs the
store (dropping files or bin assets onto a track).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QGridLayout, QMenu, QWidget

from codi_studio.studio import theme
from codi_studio.studio.commands import (
    AddShotCommand,
    EditTrackCommand,
    MoveClipsCommand,
    RemoveClipsCommand,
    RemoveShotCommand,
    SplitClipCommand,
    TrimClipCommand,
)
from codi_studio.studio.timeline_items import ClipItem, ClipPreviews, PlayheadItem, ShotItem
from codi_studio.studio.timeline_model import OUTPUT, Shot, ShotSettings, TimelineModel, new_uid, trimmed

ASSET_MIME = "application/x-codi-asset"
SNAP_PIXELS = 8.0
MIN_PPS, MAX_PPS = 2.0, 2000.0


class TimelineView(QGraphicsView):
    playheadMoved = Signal(float)
    selectionChangedClips = Signal(list)  # clip uids
    shotSelected = Signal(str)  # shot uid, "" for none
    filesDropped = Signal(list, str, float)  # paths, track uid, time
    assetDropped = Signal(int, str, float)  # asset id, track uid, time
    zoomChanged = Signal(float)

    def __init__(self, model: TimelineModel, undo: QUndoStack, previews: ClipPreviews | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.undo = undo
        self.previews = previews
        self.pps = 80.0  # pixels per second
        self.snapping = True
        self.playhead = 0.0
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._clip_items: dict[str, ClipItem] = {}
        self._shot_items: dict[str, ShotItem] = {}
        self._playhead_item = PlayheadItem()
        self._scene.addItem(self._playhead_item)
        self._drag: dict | None = None
        # many model changes in a row (loading, pasting, a long undo) resize the scene once
        self._rect_timer = QTimer(self)
        self._rect_timer.setSingleShot(True)
        self._rect_timer.setInterval(0)
        self._rect_timer.timeout.connect(self._update_scene_rect)
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setBackgroundBrush(theme.BACKGROUND)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._scene.selectionChanged.connect(self._on_scene_selection)
        model.clipAdded.connect(self._on_clip_added)
        model.clipChanged.connect(self._on_clip_changed)
        model.clipRemoved.connect(self._on_clip_removed)
        model.shotAdded.connect(self._on_shot_added)
        model.shotChanged.connect(self._on_shot_changed)
        model.shotRemoved.connect(self._on_shot_removed)
        model.tracksChanged.connect(self.rebuild)
        self.rebuild()

    # ---- geometry ----------------------------------------------------------------------
    def track_top(self, index: int) -> float:
        return theme.SHOT_LANE_HEIGHT + index * theme.TRACK_HEIGHT

    def x_of(self, seconds: float) -> float:
        return seconds * self.pps

    def time_of(self, x: float) -> float:
        return max(0.0, x / self.pps)

    def track_at(self, scene_y: float) -> str | None:
        index = int(math.floor((scene_y - theme.SHOT_LANE_HEIGHT) / theme.TRACK_HEIGHT))
        tracks = self.model.tracks
        if 0 <= index < len(tracks) and scene_y >= theme.SHOT_LANE_HEIGHT:
            return tracks[index].uid
        return None

    def _content_height(self) -> float:
        return self.track_top(len(self.model.tracks))

    def _update_scene_rect(self) -> None:
        seconds = max(self.model.duration + 20.0, self.playhead + 10.0, 60.0)
        width = max(self.x_of(seconds), self.viewport().width())
        self._scene.setSceneRect(QRectF(0, 0, width, self._content_height()))
        self._playhead_item.setLine(0, 0, 0, self._content_height())
        self._playhead_item.setX(self.x_of(self.playhead))

    def _place_clip_item(self, item: ClipItem) -> None:
        clip = self.model.clip(item.uid)
        top = self.track_top(self.model.track_index(clip.track))
        item.setRect(QRectF(0, 0, max(2.0, clip.duration * self.pps), theme.TRACK_HEIGHT - 2))
        item.setPos(self.x_of(clip.start), top + 1)

    def _place_shot_item(self, item: ShotItem) -> None:
        shot = self.model.shot(item.uid)
        item.setRect(QRectF(0, 0, max(2.0, shot.duration * self.pps), self._content_height()))
        item.setPos(self.x_of(shot.start), 0)

    # ---- model -> items ----------------------------------------------------------------
    def rebuild(self) -> None:
        for item in list(self._clip_items.values()) + list(self._shot_items.values()):
            self._scene.removeItem(item)
        self._clip_items.clear()
        self._shot_items.clear()
        for clip in self.model.clips:
            self._on_clip_added(clip.uid)
        for shot in self.model.shots:
            self._on_shot_added(shot.uid)
        self._update_scene_rect()
        self.resetCachedContent()
        self.viewport().update()

    def _on_clip_added(self, uid: str) -> None:
        clip = self.model.clip(uid)
        item = ClipItem(clip, self.model.track(clip.track), self.previews)
        self._clip_items[uid] = item
        self._scene.addItem(item)
        self._place_clip_item(item)
        self._rect_timer.start()

    def _on_clip_changed(self, uid: str) -> None:
        item = self._clip_items[uid]
        clip = self.model.clip(uid)
        item.set_clip(clip, self.model.track(clip.track))
        self._place_clip_item(item)
        self._rect_timer.start()

    def _on_clip_removed(self, uid: str) -> None:
        item = self._clip_items.pop(uid, None)
        if item is not None:
            self._scene.removeItem(item)

    def _on_shot_added(self, uid: str) -> None:
        item = ShotItem(self.model.shot(uid))
        self._shot_items[uid] = item
        self._scene.addItem(item)
        self._place_shot_item(item)
        self._rect_timer.start()

    def _on_shot_changed(self, uid: str) -> None:
        item = self._shot_items[uid]
        item.set_shot(self.model.shot(uid))
        self._place_shot_item(item)

    def _on_shot_removed(self, uid: str) -> None:
        item = self._shot_items.pop(uid, None)
        if item is not None:
            self._scene.removeItem(item)

    def clip_item(self, uid: str) -> ClipItem:
        return self._clip_items[uid]

    def shot_item(self, uid: str) -> ShotItem:
        return self._shot_items[uid]

    # ---- selection ---------------------------------------------------------------------
    def selected_clips(self) -> list[str]:
        return [i.uid for i in self._clip_items.values() if i.isSelected()]

    def selected_shot(self) -> str | None:
        for i in self._shot_items.values():
            if i.isSelected():
                return i.uid
        return None

    def select_clips(self, uids: Iterable[str], clear: bool = True) -> None:
        wanted = set(uids)
        with _SignalsBlocked(self._scene):
            if clear:
                self._scene.clearSelection()
            for uid in wanted:
                if uid in self._clip_items:
                    self._clip_items[uid].setSelected(True)
        self._on_scene_selection()

    def select_shot(self, uid: str | None) -> None:
        for item in self._shot_items.values():
            item.setSelected(item.uid == uid)
        self.shotSelected.emit(uid or "")

    def _on_scene_selection(self) -> None:
        self.selectionChangedClips.emit(self.selected_clips())
        shot = self.selected_shot()
        if shot is not None:
            self.shotSelected.emit(shot)

    # ---- playhead and zoom -------------------------------------------------------------
    def set_playhead(self, seconds: float, ensure_visible: bool = False) -> None:
        self.playhead = max(0.0, seconds)
        self._playhead_item.setX(self.x_of(self.playhead))
        if self.x_of(self.playhead) > self.sceneRect().width() - 50:
            self._update_scene_rect()
        if ensure_visible:
            self.ensureVisible(QRectF(self.x_of(self.playhead), self.verticalScrollBar().value(), 1, 1), 80, 0)
        self.playheadMoved.emit(self.playhead)

    def set_zoom(self, pps: float, anchor_time: float | None = None) -> None:
        pps = min(MAX_PPS, max(MIN_PPS, pps))
        if anchor_time is None:
            anchor_time = self.playhead
        anchor_view_x = self.mapFromScene(QPointF(self.x_of(anchor_time), 0)).x()
        self.pps = pps
        for item in self._clip_items.values():
            self._place_clip_item(item)
        for item in self._shot_items.values():
            self._place_shot_item(item)
        self._update_scene_rect()
        self.horizontalScrollBar().setValue(int(self.x_of(anchor_time) - anchor_view_x))
        self.zoomChanged.emit(self.pps)

    def zoom_to_fit(self) -> None:
        """Shows the whole timeline (at least ten seconds) across the view."""
        seconds = max(10.0, self.model.duration * 1.15)
        self.set_zoom(max(MIN_PPS, (self.viewport().width() - 20) / seconds), 0.0)
        self.horizontalScrollBar().setValue(0)

    def zoom_in(self) -> None:
        self.set_zoom(self.pps * 1.5)

    def zoom_out(self) -> None:
        self.set_zoom(self.pps / 1.5)

    # ---- snapping ----------------------------------------------------------------------
    def snap(self, times: list[float], exclude: Iterable[str] = ()) -> float:
        """The shift (seconds) that snaps the nearest of `times` onto an edge or the playhead."""
        if not self.snapping:
            return 0.0
        targets = self.model.edges(exclude) + [self.playhead]
        best = 0.0
        best_px = SNAP_PIXELS
        for t in times:
            for target in targets:
                d = (target - t) * self.pps
                if abs(d) < best_px:
                    best_px = abs(d)
                    best = target - t
        return best

    # ---- mouse ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = self.mapToScene(event.position().toPoint())
        item = self.itemAt(event.position().toPoint())
        ctrl = bool(event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if isinstance(item, ClipItem):
            if self.model.track(item.clip.track).locked:
                return
            if ctrl:
                item.setSelected(not item.isSelected())
            elif not item.isSelected():
                self.select_clips([item.uid])
            edge = item.edge_at(pos.x())
            if edge is not None and not ctrl:
                self._drag = {"mode": "trim", "uid": item.uid, "edge": edge}
            elif item.isSelected():
                uids = self.selected_clips()
                self._drag = {"mode": "move", "uids": uids, "press": pos, "origin": {
                    u: self._clip_items[u].pos() for u in uids}, "delta": 0.0, "tracks": {}}
            self.setFocus()
            return
        if isinstance(item, ShotItem):
            self.select_shot(item.uid)
            self.setFocus()
            return
        if pos.y() < theme.SHOT_LANE_HEIGHT:  # drag in the empty shot lane marks a new shot
            self._drag = {"mode": "shot", "start": self.time_of(pos.x()), "end": self.time_of(pos.x())}
            return
        if not ctrl:
            self.set_playhead(self.time_of(pos.x()))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self.mapToScene(event.position().toPoint())
        drag = self._drag
        if drag is None:
            item = self.itemAt(event.position().toPoint())
            if isinstance(item, ClipItem) and item.edge_at(pos.x()):
                self.viewport().setCursor(Qt.CursorShape.SizeHorCursor)
            else:
                self.viewport().unsetCursor()
            super().mouseMoveEvent(event)
            return
        if drag["mode"] == "move":
            delta = (pos.x() - drag["press"].x()) / self.pps
            clips = [self.model.clip(u) for u in drag["uids"]]
            delta = max(delta, -min(c.start for c in clips))
            delta += self.snap([c.start + delta for c in clips] + [c.end + delta for c in clips], drag["uids"])
            drag["delta"] = delta
            target = self.track_at(pos.y())
            drag["tracks"] = {}
            if target is not None and len(clips) == 1:
                t = self.model.track(target)
                if t.kind == self.model.track(clips[0].track).kind and not t.locked:
                    drag["tracks"] = {clips[0].uid: target}
            for c in clips:
                item = self._clip_items[c.uid]
                top = self.track_top(self.model.track_index(drag["tracks"].get(c.uid, c.track))) + 1
                item.setPos(self.x_of(c.start + delta), top)
        elif drag["mode"] == "trim":
            item = self._clip_items[drag["uid"]]
            clip = self.model.clip(drag["uid"])
            t = self.time_of(pos.x())
            t += self.snap([t], [clip.uid])
            drag["time"] = t
            preview = trimmed(clip, drag["edge"], t)
            item.setRect(QRectF(0, 0, max(2.0, preview.duration * self.pps), theme.TRACK_HEIGHT - 2))
            item.setX(self.x_of(preview.start))
        elif drag["mode"] == "shot":
            t = self.time_of(pos.x())
            drag["end"] = t + self.snap([t])
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            super().mouseReleaseEvent(event)
            return
        if drag["mode"] == "move":
            if abs(drag["delta"]) > 1e-9 or drag["tracks"]:
                self.undo.push(MoveClipsCommand(self.model, drag["uids"], drag["delta"], drag["tracks"]))
            else:
                for u in drag["uids"]:
                    self._place_clip_item(self._clip_items[u])
        elif drag["mode"] == "trim":
            if "time" in drag:
                self.undo.push(TrimClipCommand(self.model, drag["uid"], drag["edge"], drag["time"]))
        elif drag["mode"] == "shot":
            start, end = sorted((drag["start"], drag["end"]))
            if end - start > 0.1:
                self.mark_shot(start, end)
            else:
                self.set_playhead(start)
            self.viewport().update()

    def mark_shot(self, start: float, end: float, settings: ShotSettings | None = None) -> str:
        """Marks [start, end) as a shot (an undoable edit) and selects it."""
        number = len(self.model.shots) + 1
        shot = Shot(new_uid("s"), start, end, settings or ShotSettings(), name=f"Shot {number}")
        self.undo.push(AddShotCommand(self.model, shot))
        self.select_shot(shot.uid)
        return shot.uid

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        drag = self._drag
        if drag is not None and drag["mode"] == "shot":
            a, b = sorted((drag["start"], drag["end"]))
            color = QColor(theme.SHOT_COLOR)
            color.setAlpha(90)
            painter.fillRect(QRectF(self.x_of(a), 0, self.x_of(b) - self.x_of(a), self._content_height()), color)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.BACKGROUND)
        for i, track in enumerate(self.model.tracks):
            band = QRectF(rect.left(), self.track_top(i), rect.width(), theme.TRACK_HEIGHT)
            if not band.intersects(rect):
                continue
            color = theme.OUTPUT_TRACK_BACKGROUND if track.role == OUTPUT else theme.TRACK_BACKGROUNDS[i % 2]
            painter.fillRect(band, color)
            painter.setPen(QPen(QColor(28, 30, 33), 1))
            painter.drawLine(QPointF(rect.left(), band.bottom()), QPointF(rect.right(), band.bottom()))
        painter.fillRect(QRectF(rect.left(), 0, rect.width(), theme.SHOT_LANE_HEIGHT), QColor(36, 38, 42))

    # ---- keys and wheel ------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
        elif key == Qt.Key.Key_S and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.split_at_playhead()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    def delete_selection(self) -> None:
        uids = self.selected_clips()
        shot = self.selected_shot()
        if uids:
            self.undo.push(RemoveClipsCommand(self.model, uids))
        elif shot is not None:
            self.undo.push(RemoveShotCommand(self.model, shot))
            self.shotSelected.emit("")

    def split_at_playhead(self) -> None:
        uids = [u for u in self.selected_clips()
                if self.model.clip(u).start < self.playhead < self.model.clip(u).end]
        if not uids:
            return
        self.undo.beginMacro("Split clips")
        for uid in uids:
            try:
                self.undo.push(SplitClipCommand(self.model, uid, self.playhead))
            except ValueError:
                pass  # too close to an edge: nothing to cut
        self.undo.endMacro()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            anchor = self.time_of(self.mapToScene(event.position().toPoint()).x())
            self.set_zoom(self.pps * (1.25 if event.angleDelta().y() > 0 else 0.8), anchor)
            return
        super().wheelEvent(event)

    # ---- drops -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(ASSET_MIME) or mime.hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(ASSET_MIME) or mime.hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        pos = self.mapToScene(event.position().toPoint())
        track = self.track_at(pos.y()) or ""
        time = self.time_of(pos.x())
        time += self.snap([time])
        if mime.hasFormat(ASSET_MIME):
            for raw in bytes(mime.data(ASSET_MIME).data()).decode().split(","):
                if raw.strip():
                    self.assetDropped.emit(int(raw), track, time)
            event.acceptProposedAction()
        elif mime.hasUrls():
            paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
            self.filesDropped.emit([str(p) for p in paths], track, time)
            event.acceptProposedAction()

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - Qt event
        super().resizeEvent(event)
        self._update_scene_rect()


class _SignalsBlocked:
    def __init__(self, obj) -> None:  # noqa: ANN001 - any QObject
        self._obj = obj

    def __enter__(self) -> None:
        self._old = self._obj.blockSignals(True)

    def __exit__(self, *exc: object) -> None:
        self._obj.blockSignals(self._old)


class TimeRuler(QWidget):
    """Seconds along the top; click or drag to move the playhead."""

    def __init__(self, view: TimelineView) -> None:
        super().__init__()
        self.view = view
        self.setFixedHeight(theme.RULER_HEIGHT)
        view.horizontalScrollBar().valueChanged.connect(self.update)
        view.playheadMoved.connect(self.update)
        view.zoomChanged.connect(self.update)

    def _time_at(self, x: float) -> float:
        return self.view.time_of(self.view.horizontalScrollBar().value() + x)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.view.set_playhead(self._time_at(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.set_playhead(self._time_at(event.position().x()))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 32, 36))
        offset = self.view.horizontalScrollBar().value()
        pps = self.view.pps
        step = _nice_step(70.0 / pps)
        first = math.floor(offset / pps / step) * step
        t = first
        p.setPen(theme.DIM_TEXT)
        font = p.font()
        font.setPointSizeF(7.5)
        p.setFont(font)
        while (t * pps - offset) < self.width():
            x = t * pps - offset
            p.drawLine(QPointF(x, self.height() - 8), QPointF(x, self.height()))
            p.drawText(QPointF(x + 3, self.height() - 10), _format_time(t))
            for k in range(1, 5):
                xm = x + k * step * pps / 5
                p.drawLine(QPointF(xm, self.height() - 3), QPointF(xm, self.height()))
            t += step
        x = self.view.playhead * pps - offset
        p.setBrush(theme.PLAYHEAD_COLOR)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 9)])
        p.end()


class TrackHeaders(QWidget):
    """Track names beside the view, scrolled with it."""

    def __init__(self, view: TimelineView) -> None:
        super().__init__()
        self.view = view
        self.setFixedWidth(theme.HEADER_WIDTH)
        view.verticalScrollBar().valueChanged.connect(self.update)
        view.model.tracksChanged.connect(self.update)

    def track_at(self, y: float) -> str | None:
        return self.view.track_at(y + self.view.verticalScrollBar().value())

    def toggle(self, track_uid: str, flag: str) -> None:
        """Flips a track's `muted` or `locked` flag as an undoable edit."""
        track = self.view.model.track(track_uid)
        new = replace(track, **{flag: not getattr(track, flag)})
        verb = {"muted": ("Unmute", "Mute"), "locked": ("Unlock", "Lock")}[flag][int(not getattr(track, flag))]
        self.view.undo.push(EditTrackCommand(self.view.model, new, f"{verb} {track.name}"))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        uid = self.track_at(event.pos().y())
        if uid is None:
            return
        track = self.view.model.track(uid)
        menu = QMenu(self)
        mute = menu.addAction("Unmute" if track.muted else "Mute (not an input, not heard)")
        lock = menu.addAction("Unlock" if track.locked else "Lock (no edits)")
        chosen = menu.exec(event.globalPos())
        if chosen is mute:
            self.toggle(uid, "muted")
        elif chosen is lock:
            self.toggle(uid, "locked")

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(38, 40, 45))
        offset = self.view.verticalScrollBar().value()
        p.setPen(theme.DIM_TEXT)
        p.drawText(QRectF(8, -offset, self.width(), theme.SHOT_LANE_HEIGHT), Qt.AlignmentFlag.AlignVCenter, "Shots")
        for i, track in enumerate(self.view.model.tracks):
            top = self.view.track_top(i) - offset
            band = QRectF(0, top, self.width(), theme.TRACK_HEIGHT)
            p.fillRect(band.adjusted(0, 0, 0, -1), QColor(44, 46, 52) if track.role != OUTPUT else QColor(40, 48, 58))
            p.fillRect(QRectF(0, top, 4, theme.TRACK_HEIGHT - 1), theme.MODALITY_COLORS[track.kind])
            p.setPen(theme.TEXT_COLOR)
            p.drawText(band.adjusted(12, 6, -4, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, track.name)
            p.setPen(theme.DIM_TEXT)
            flags = ("muted " if track.muted else "") + ("locked" if track.locked else "")
            role = "generated" if track.role == OUTPUT else "condition"
            p.drawText(band.adjusted(12, 0, -4, -8), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                       f"{role} {flags}".strip())
        p.end()


class TimelineWidget(QWidget):
    """Ruler, track headers and the view, laid out together."""

    def __init__(self, model: TimelineModel, undo: QUndoStack, previews: ClipPreviews | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = TimelineView(model, undo, previews)
        self.ruler = TimeRuler(self.view)
        self.headers = TrackHeaders(self.view)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        corner = QWidget()
        corner.setFixedSize(theme.HEADER_WIDTH, theme.RULER_HEIGHT)
        corner.setAutoFillBackground(True)
        grid.addWidget(corner, 0, 0)
        grid.addWidget(self.ruler, 0, 1)
        grid.addWidget(self.headers, 1, 0)
        grid.addWidget(self.view, 1, 1)


def _nice_step(seconds: float) -> float:
    for step in (0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if step >= seconds:
            return float(step)
    return 1200.0


def _format_time(t: float) -> str:
    minutes, seconds = divmod(t, 60)
    if abs(seconds - round(seconds)) < 1e-6:
        return f"{int(minutes)}:{int(round(seconds)):02d}"
    return f"{int(minutes)}:{seconds:04.1f}"
