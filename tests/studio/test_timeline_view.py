"""The real window's timeline driven with mouse, keys and drops: import, place, move, trim, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from codi_studio.media.values import Modality
from codi_studio.studio import theme
from codi_studio.studio.timeline_model import CONDITION

pytestmark = pytest.mark.gui


def track_uid(window, kind: Modality, role: str = CONDITION) -> str:
    return next(t.uid for t in window.model.tracks if t.kind == kind and t.role == role)


def viewport_point(window, track: str, seconds: float) -> QPoint:
    view = window.view
    y = view.track_top(window.model.track_index(track)) + theme.TRACK_HEIGHT / 2
    return view.mapFromScene(QPointF(view.x_of(seconds), y))


def drop(window, mime: QMimeData, at: QPoint) -> None:
    """A drag entering, moving and dropping on the timeline, as Qt delivers it."""
    viewport = window.view.viewport()
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(at, actions, mime, buttons, mods), QDragMoveEvent(at, actions, mime, buttons, mods),
                  QDropEvent(QPointF(at), actions, mime, buttons, mods)):
        QApplication.sendEvent(viewport, event)


def drag(window, start: QPoint, end: QPoint, modifiers=Qt.KeyboardModifier.NoModifier) -> None:  # noqa: ANN001
    viewport = window.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, modifiers, start)
    mid = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    QTest.mouseMove(viewport, mid)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifiers, end)


@pytest.fixture()
def opened(window, tmp_path: Path):  # noqa: ANN001
    window.open_project(tmp_path / "edit.codi")
    window.view.snapping = False
    return window


def test_import_files_fills_the_bin_with_thumbnails(opened, media_files):
    w = opened
    version_ids = w.import_files([str(p) for p in media_files.values()])
    assert len(version_ids) == 4
    assert w.bin.list.count() == 4
    names = [w.bin.list.item(i).text() for i in range(w.bin.list.count())]
    assert any("red square.png" in n and "64×48" in n for n in names)
    assert not w.bin.list.item(0).icon().isNull()
    # a broken file is reported with its name, nothing half-imported
    bad = media_files["image"].with_name("broken.png")
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert w.import_files([str(bad)]) == []
    assert w.bin.list.count() == 4
    message = w.statusBar().currentMessage()
    assert "broken.png" in message and "not a readable image" in message


def test_drop_files_from_the_file_manager_and_assets_from_the_bin(opened, media_files):
    w = opened
    image_track = track_uid(w, Modality.IMAGE)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(media_files["image"]))])
    drop(w, mime, viewport_point(w, image_track, 2.0))
    [clip] = w.model.clips
    assert clip.track == image_track and clip.start == pytest.approx(2.0, abs=0.02)
    assert clip.version_id is not None and w.bin.list.count() == 1

    w.import_files([str(media_files["audio"])])
    audio_item = next(w.bin.list.item(i) for i in range(w.bin.list.count()) if "tone" in w.bin.list.item(i).text())
    # dropped on the (wrong) image track: the audio lands on the audio condition track
    drop(w, w.bin.list.mimeData([audio_item]), viewport_point(w, image_track, 5.0))
    audio = next(c for c in w.model.clips if c.track == track_uid(w, Modality.AUDIO))
    assert audio.duration == pytest.approx(1.0, abs=0.01) and audio.source_duration == pytest.approx(1.0, abs=0.01)
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(w.model.clips) == 1
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(w.model.clips) == 2


def test_move_trim_split_delete_with_mouse_and_keys_all_undo(opened, media_files):
    w = opened
    view = w.view
    [vid] = w.import_files([str(media_files["video"])])
    uid = w.place_asset(w.session.version(vid).asset_id, track_uid(w, Modality.VIDEO), 1.0)
    clip = w.model.clip(uid)
    assert clip.duration == pytest.approx(1.0, abs=0.01)
    view.set_zoom(200.0, 0.0)
    view.horizontalScrollBar().setValue(0)

    # move: grab the middle, drag 100 px right = 0.5 s
    y_track = track_uid(w, Modality.VIDEO)
    start = viewport_point(w, y_track, 1.5)
    drag(w, start, start + QPoint(100, 0))
    assert w.model.clip(uid).start == pytest.approx(1.5, abs=0.01)

    # trim: the right edge back by 40 px = 0.2 s (a video cannot grow past its source)
    edge = viewport_point(w, y_track, w.model.clip(uid).end) - QPoint(2, 0)
    drag(w, edge, edge - QPoint(40, 0))
    trimmed = w.model.clip(uid)
    assert trimmed.duration == pytest.approx(0.8, abs=0.02) and trimmed.start == pytest.approx(1.5, abs=0.01)
    edge = viewport_point(w, y_track, trimmed.end) - QPoint(2, 0)
    drag(w, edge, edge + QPoint(400, 0))
    assert w.model.clip(uid).duration == pytest.approx(1.0, abs=0.02)

    # split at the playhead with S
    view.set_playhead(2.0)
    view.select_clips([uid])
    view.setFocus()
    QTest.keyClick(w, Qt.Key.Key_S)
    assert len(w.model.clips) == 2
    pieces = sorted(w.model.clips, key=lambda c: c.start)
    assert pieces[0].end == pytest.approx(2.0) and pieces[1].in_point == pytest.approx(0.5, abs=0.01)

    # multi-select with ctrl-click and delete both
    view.select_clips([])
    for piece in pieces:
        point = viewport_point(w, y_track, piece.start + piece.duration / 2)
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, point)
    assert sorted(view.selected_clips()) == sorted(p.uid for p in pieces)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert w.model.clips == []

    # the whole history undoes back to the placed clip, and redoes
    for _ in range(5):
        w.undo.undo()
    assert [c.start for c in w.model.clips] == [pytest.approx(1.0)]
    while w.undo.canRedo():
        w.undo.redo()
    assert w.model.clips == []


def test_snapping_zoom_and_marking_a_shot(opened, media_files):
    w = opened
    view = w.view
    image_track = track_uid(w, Modality.IMAGE)
    [img] = w.import_files([str(media_files["image"])])
    asset = w.session.version(img).asset_id
    first = w.place_asset(asset, image_track, 0.0)  # a still gets 2 s
    second = w.place_asset(asset, image_track, 4.0)
    view.set_zoom(100.0, 0.0)
    view.horizontalScrollBar().setValue(0)
    view.snapping = True
    # drag the second clip so its start lands 5 px after the first one's end: it snaps onto it
    start = viewport_point(w, image_track, 5.0)
    drag(w, start, start - QPoint(195, 0))
    assert w.model.clip(second).start == pytest.approx(w.model.clip(first).end)

    before = view.pps
    QTest.keyClick(w, Qt.Key.Key_Plus)
    assert view.pps == pytest.approx(before * 1.5)
    QTest.keyClick(w, Qt.Key.Key_Minus)
    assert view.pps == pytest.approx(before)

    lane_y = theme.SHOT_LANE_HEIGHT // 2
    a = view.mapFromScene(QPointF(view.x_of(0.5), lane_y))
    b = view.mapFromScene(QPointF(view.x_of(3.0), lane_y))
    drag(w, a, b)
    [shot] = w.model.shots
    assert shot.start == pytest.approx(0.5, abs=0.02) and shot.end == pytest.approx(3.0, abs=0.02)
    assert view.selected_shot() == shot.uid
    assert w.inspector.currentWidget() is w.inspector.shot_page
    assert [c.uid for c in w.model.conditions_for(shot)] == [first, second]
    w.undo.undo()
    assert w.model.shots == []


def test_inspector_edits_are_undoable(opened):
    w = opened
    text_track = track_uid(w, Modality.TEXT)
    from codi_studio.studio.commands import AddClipsCommand
    from codi_studio.studio.timeline_model import Clip

    w.undo.push(AddClipsCommand(w.model, [Clip("t", text_track, 0.0, 2.0, text="a red circle")]))
    w.view.select_clips(["t"])
    page = w.inspector.clip_page
    assert w.inspector.currentWidget() is page
    page.weight.setValue(0.25)
    assert w.model.clip("t").weight == pytest.approx(0.25)
    page.text.setPlainText("a blue square")
    page._text_timer.timeout.emit()  # the pause in typing that commits the text
    assert w.model.clip("t").text == "a blue square"
    w.undo.undo()
    assert w.model.clip("t").text == "a red circle"
    w.undo.undo()
    assert w.model.clip("t").weight == pytest.approx(1.0)


def test_shortcuts_list_names_the_editing_keys(window):
    dialog = window.show_shortcuts()
    table = dialog.findChild(__import__("PySide6.QtWidgets", fromlist=["QTableWidget"]).QTableWidget)
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Undo"] == "Ctrl+Z" and rows["Redo"] == "Ctrl+Shift+Z" and rows["Save"] == "Ctrl+S"
    assert rows["Play / Pause"] == "Space" and rows["Generate Selected Shot"] == "G"


def test_mute_and_lock_tracks_undoably(opened, media_files):
    w = opened
    image_track = track_uid(w, Modality.IMAGE)
    [img] = w.import_files([str(media_files["image"])])
    uid = w.place_asset(w.session.version(img).asset_id, image_track, 0.0)
    from codi_studio.studio.timeline_model import Shot

    shot = Shot("s", 0.0, 1.0)
    assert [c.uid for c in w.model.conditions_for(shot)] == [uid]
    w.timeline.headers.toggle(image_track, "muted")
    assert w.model.track(image_track).muted and w.model.conditions_for(shot) == []
    assert w.session.placed_clips() == []  # muted: not shown, not exported
    w.undo.undo()
    assert not w.model.track(image_track).muted and len(w.session.placed_clips()) == 1
    w.timeline.headers.toggle(image_track, "locked")
    w.view.set_zoom(100.0, 0.0)
    w.view.horizontalScrollBar().setValue(0)
    start = viewport_point(w, image_track, 1.0)
    drag(w, start, start + QPoint(100, 0))
    assert w.model.clip(uid).start == 0.0  # a locked track refuses the drag
    assert w.save()
    w.close_project()
    w.open_project(w.settings.recent_projects()[0])
    assert next(t for t in w.model.tracks if t.kind == Modality.IMAGE and t.role == CONDITION).locked


def test_space_plays_and_pauses_silently_without_an_audio_device(opened, media_files):
    w = opened
    [aud] = w.import_files([str(media_files["audio"])])
    w.place_asset(w.session.version(aud).asset_id, track_uid(w, Modality.AUDIO), 0.0)
    assert not w.audio.available and "audio is off" in (w.audio.unavailable_reason or "")
    assert "no audio device" in w.viewer.audio_label.text()
    QTest.keyClick(w, Qt.Key.Key_Space)
    assert w.playing
    QTest.qWait(300)
    QTest.keyClick(w, Qt.Key.Key_Space)
    assert not w.playing
    assert 0.1 < w.view.playhead < 1.0
