"""The timeline model and its undo commands, without any view."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from codi_studio.media.values import Modality
from codi_studio.studio.commands import (
    AddClipsCommand,
    AddShotCommand,
    EditClipCommand,
    MoveClipsCommand,
    RemoveClipsCommand,
    SplitClipCommand,
    TrimClipCommand,
)
from codi_studio.studio.timeline_model import CONDITION, OUTPUT, Clip, Shot, TimelineModel, split, trimmed


@pytest.fixture()
def model() -> TimelineModel:
    return TimelineModel()


def track(model: TimelineModel, kind: Modality, role: str = CONDITION) -> str:
    return next(t.uid for t in model.tracks if t.kind == kind and t.role == role)


def test_default_tracks_cover_every_modality_as_condition_and_output(model):
    for kind in Modality:
        assert track(model, kind, CONDITION)
        assert track(model, kind, OUTPUT)


def test_trim_keeps_a_timed_clip_inside_its_source():
    clip = Clip("c", "t", start=2.0, duration=3.0, in_point=1.0, source_duration=5.0)
    head = trimmed(clip, "left", 0.0)  # can only go back by its in point
    assert (head.start, head.in_point, head.duration) == pytest.approx((1.0, 0.0, 4.0))
    tail = trimmed(clip, "right", 100.0)  # can only run to the source's end
    assert tail.end == pytest.approx(2.0 + 5.0 - 1.0)
    tiny = trimmed(clip, "right", 0.0)
    assert tiny.duration == pytest.approx(0.05)


def test_a_still_stretches_freely_but_not_before_zero():
    still = Clip("c", "t", start=1.0, duration=2.0)
    assert trimmed(still, "right", 30.0).duration == pytest.approx(29.0)
    assert trimmed(still, "left", -5.0).start == 0.0


def test_split_continues_the_source_where_the_head_stops():
    clip = Clip("c", "t", start=1.0, duration=4.0, in_point=0.5, source_duration=6.0)
    head, tail = split(clip, 2.5)
    assert head.uid == "c" and tail.uid != "c"
    assert head.end == pytest.approx(2.5) and tail.start == pytest.approx(2.5)
    assert tail.in_point == pytest.approx(2.0) and tail.end == pytest.approx(clip.end)
    with pytest.raises(ValueError):
        split(clip, 1.01)


def test_every_command_undoes_and_redoes_exactly(model):
    undo = QUndoStack()
    image = track(model, Modality.IMAGE)
    video = track(model, Modality.VIDEO)
    a = Clip("a", image, 0.0, 2.0)
    b = Clip("b", video, 3.0, 1.0, source_duration=1.0)
    undo.push(AddClipsCommand(model, [a, b]))
    undo.push(MoveClipsCommand(model, ["a"], 1.5))
    undo.push(TrimClipCommand(model, "b", "left", 3.5))
    undo.push(SplitClipCommand(model, "a", 2.0))
    undo.push(EditClipCommand(model, Clip("b", video, 3.5, 0.5, in_point=0.5, source_duration=1.0, weight=0.3)))
    undo.push(RemoveClipsCommand(model, ["b"]))
    final = {c.uid: c for c in model.clips}
    assert "b" not in final and len(final) == 2
    while undo.canUndo():
        undo.undo()
    assert model.clips == []
    undo.redo()
    assert {c.uid: c for c in model.clips} == {"a": a, "b": b}
    while undo.canRedo():
        undo.redo()
    assert {c.uid: c for c in model.clips} == final


def test_moving_a_linked_clip_moves_its_partner_and_never_before_zero(model):
    undo = QUndoStack()
    v = Clip("v", track(model, Modality.VIDEO, OUTPUT), 2.0, 1.0, link="g1")
    a = Clip("a", track(model, Modality.AUDIO, OUTPUT), 2.0, 1.0, link="g1")
    undo.push(AddClipsCommand(model, [v, a]))
    undo.push(MoveClipsCommand(model, ["v"], -5.0))
    assert model.clip("v").start == 0.0 and model.clip("a").start == 0.0
    undo.push(RemoveClipsCommand(model, ["a"]))
    assert model.clips == []
    undo.undo()
    assert {c.uid for c in model.clips} == {"v", "a"}


def test_a_shot_takes_the_unmuted_conditions_it_overlaps(model):
    text = track(model, Modality.TEXT)
    image = track(model, Modality.IMAGE)
    model.add_clip(Clip("t1", text, 0.0, 2.0, text="a red circle"))
    model.add_clip(Clip("i1", image, 1.5, 2.0))
    model.add_clip(Clip("i2", image, 5.0, 1.0))
    shot = Shot("s", 1.0, 3.0)
    undo = QUndoStack()
    undo.push(AddShotCommand(model, shot))
    assert [c.uid for c in model.conditions_for(shot)] == ["t1", "i1"]
    from dataclasses import replace

    model.replace_track(replace(model.track(text), muted=True))
    assert [c.uid for c in model.conditions_for(shot)] == ["i1"]
    undo.undo()
    assert model.shots == []


def test_bad_edits_are_refused_with_a_reason(model):
    with pytest.raises(KeyError):
        model.add_clip(Clip("x", "no-such-track", 0, 1))
    with pytest.raises(ValueError, match="longer"):
        model.add_shot(Shot("s", 1.0, 1.01))
