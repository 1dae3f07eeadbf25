"""Tracks and clips: place, move, trim, weight, text, remove/restore, locks and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from codi_studio.store import InvalidOperationError, NotFoundError, Project

from store_helpers import make_png, make_wav


def test_tracks_keep_order_and_flags(project: Project) -> None:
    a = project.add_track("video", "condition")
    b = project.add_track("audio", "output", name="Music")
    project.update_track(a.id, muted=True, position=5)
    tracks = project.tracks()
    assert [(t.kind, t.role, t.name) for t in tracks] == [("audio", "output", "Music"), ("video", "condition", "video condition")]
    assert tracks[1].muted and not tracks[1].locked
    with pytest.raises(InvalidOperationError, match="unknown modality"):
        project.add_track("smell")
    with pytest.raises(InvalidOperationError, match="role"):
        project.add_track("text", "backdrop")


def test_place_move_trim_weight_remove_restore(project: Project, tmp_path: Path) -> None:
    sound = project.import_media(make_wav(tmp_path / "tone.wav", seconds=2.0))
    track = project.add_track("audio")
    clip = project.place_clip(track.id, 1.0, version_id=sound.id)
    assert (clip.start, clip.duration, clip.in_point, clip.version_id) == (1.0, 2.0, 0.0, sound.id)
    clip = project.move_clip(clip.id, start=3.5)
    assert clip.start == 3.5
    clip = project.trim_clip(clip.id, start=4.0, in_point=0.5, duration=1.5)  # left edge dragged right
    assert (clip.start, clip.in_point, clip.duration, clip.out_point) == (4.0, 0.5, 1.5, 2.0)
    with pytest.raises(InvalidOperationError, match="past the end of the source"):
        project.trim_clip(clip.id, duration=1.6)
    assert project.set_clip_weight(clip.id, 0.25).weight == 0.25
    with pytest.raises(InvalidOperationError, match="negative"):
        project.set_clip_weight(clip.id, -1)
    project.remove_clip(clip.id)
    assert project.timeline()[0].clips == ()
    with pytest.raises(NotFoundError):
        project.move_clip(clip.id, start=0)
    restored = project.restore_clip(clip.id)
    assert (restored.start, restored.duration, restored.weight) == (4.0, 1.5, 0.25)
    assert project.clip(clip.id) == restored


def test_text_clip_holds_its_text(project: Project) -> None:
    track = project.add_track("text")
    clip = project.place_clip(track.id, 0.0, text="a dog barks")
    assert clip.duration == 5.0 and clip.text == "a dog barks"
    assert project.set_clip_text(clip.id, "a cat meows").text == "a cat meows"


def test_clip_kind_must_match_track(project: Project, tmp_path: Path) -> None:
    picture = project.import_media(make_png(tmp_path / "p.png"))
    audio_track = project.add_track("audio")
    image_track = project.add_track("image")
    with pytest.raises(InvalidOperationError, match="image clip cannot go on audio track"):
        project.place_clip(audio_track.id, 0, version_id=picture.id)
    with pytest.raises(InvalidOperationError, match="text clip cannot go on image track"):
        project.place_clip(image_track.id, 0, text="hi")
    with pytest.raises(InvalidOperationError, match="empty clip"):
        project.place_clip(image_track.id, 0)
    clip = project.place_clip(image_track.id, 0, version_id=picture.id)
    with pytest.raises(InvalidOperationError, match="cannot go on audio track"):
        project.move_clip(clip.id, track_id=audio_track.id)
    with pytest.raises(InvalidOperationError, match="bad clip times"):
        project.move_clip(clip.id, start=-1)


def test_locked_track_refuses_edits(project: Project) -> None:
    track = project.add_track("text")
    clip = project.place_clip(track.id, 0, 1, text="x")
    project.update_track(track.id, locked=True)
    for edit in (
        lambda: project.move_clip(clip.id, start=2),
        lambda: project.trim_clip(clip.id, duration=2),
        lambda: project.remove_clip(clip.id),
        lambda: project.place_clip(track.id, 3, 1, text="y"),
    ):
        with pytest.raises(InvalidOperationError, match="locked"):
            edit()
    assert project.clip(clip.id).start == 0


def test_remove_track_takes_its_clips(project: Project) -> None:
    track = project.add_track("text")
    clip = project.place_clip(track.id, 0, 1, text="x")
    project.remove_track(track.id)
    assert project.timeline() == []
    with pytest.raises(NotFoundError):
        project.clip(clip.id)


def test_failed_operation_changes_nothing(project: Project) -> None:
    track = project.add_track("text")
    with pytest.raises(NotFoundError):
        project.place_clip(track.id, 0, 1, version_id=999)
    assert project.timeline()[0].clips == ()
    assert project.info().clips == 0
