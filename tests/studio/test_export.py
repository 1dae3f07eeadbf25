"""Timeline export: the renderer itself, and the export dialog writing real files read back by the media layer."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from codi_studio.media import probe, read_audio, read_image, read_video
from codi_studio.media.values import Audio, Image, Modality, Video
from codi_studio.service.requests import CancelToken
from codi_studio.service.timeline_export import (
    ExportCancelled,
    ExportError,
    PlacedClip,
    export_mp4,
    mix_audio,
    output_size,
    render_frame,
)
from codi_studio.studio.timeline_model import CONDITION


def solid(rgb: tuple[int, int, int], size: int = 32) -> Image:
    return Image(np.full((size, size, 3), rgb, np.uint8))


def test_the_last_visual_track_wins_and_gaps_are_black():
    clips = [
        PlacedClip(Modality.IMAGE, 1, 0.0, 2.0, 0.0, solid((200, 0, 0))),
        PlacedClip(Modality.IMAGE, 5, 1.0, 1.0, 0.0, solid((0, 200, 0))),
    ]
    size = output_size(clips)
    assert size == (256, 256)  # small art is enlarged for viewing
    assert tuple(render_frame(clips, 0.5, size).pixels[128, 128]) == (200, 0, 0)
    assert tuple(render_frame(clips, 1.5, size).pixels[128, 128]) == (0, 200, 0)
    assert render_frame(clips, 2.5, size).pixels.max() == 0


def test_video_frames_follow_the_trim_and_sound_is_mixed_in_place():
    frames = np.zeros((10, 16, 16, 3), np.uint8)
    for i in range(10):
        frames[i] = i * 20
    tone = np.full((16000, 1), 0.25, np.float32)
    video = Video(frames, 10.0, Audio(tone, 16000))
    clip = PlacedClip(Modality.VIDEO, 0, 1.0, 0.5, 0.3, video)  # shows source 0.3 s .. 0.8 s
    assert render_frame([clip], 1.0, (16, 16)).pixels[0, 0, 0] == 60  # frame 3
    assert render_frame([clip], 1.45, (16, 16)).pixels[0, 0, 0] == 140  # frame 7
    beep = PlacedClip(Modality.AUDIO, 1, 1.25, 1.0, 0.0, Audio(np.full((16000, 1), 0.5, np.float32), 16000))
    mix = mix_audio([clip, beep], 0.0, 2.0)
    s = mix.samples[:, 0]
    assert mix.duration == pytest.approx(2.0)
    assert s[int(0.5 * 16000)] == 0.0
    assert s[int(1.1 * 16000)] == pytest.approx(0.25)
    assert s[int(1.4 * 16000)] == pytest.approx(0.75)
    assert s[int(1.9 * 16000)] == pytest.approx(0.5)


def test_an_empty_range_and_a_cancelled_export_write_nothing(tmp_path: Path):
    clips = [PlacedClip(Modality.IMAGE, 0, 0.0, 3.0, 0.0, solid((9, 9, 9)))]
    with pytest.raises(ExportError, match="empty"):
        export_mp4(clips, tmp_path / "x.mp4", 2.0, 2.0)
    token = CancelToken()

    def progress(fraction: float, what: str) -> None:
        if fraction > 0.1:
            token.cancel()

    with pytest.raises(ExportCancelled):
        export_mp4(clips, tmp_path / "y.mp4", progress=progress, cancel=token)
    assert not (tmp_path / "y.mp4").exists()


@pytest.mark.gui
def test_export_dialog_writes_mp4_wav_png_bundle_and_otio(window, qtbot, tmp_path: Path, media_files):
    w = window
    w.open_project(tmp_path / "cut.codi")
    ids = w.import_files([str(media_files["image"]), str(media_files["video"]), str(media_files["audio"])])
    image_v, video_v, audio_v = (w.session.version(i) for i in ids)

    def cond(kind: Modality) -> str:
        return next(t.uid for t in w.model.tracks if t.kind == kind and t.role == CONDITION)

    w.place_asset(image_v.asset_id, cond(Modality.IMAGE), 0.0)  # 0 .. 2 s
    w.place_asset(video_v.asset_id, cond(Modality.VIDEO), 2.0)  # 2 .. 3 s, with sound
    w.place_asset(audio_v.asset_id, cond(Modality.AUDIO), 2.5)  # 2.5 .. 3.5 s
    assert w.model.duration == pytest.approx(3.5, abs=0.01)

    dialog = w.show_export_dialog()
    dialog.set_format("mp4")
    target = tmp_path / "out" / "cut.mp4"
    target.parent.mkdir()
    dialog.path.setText(str(target))
    with qtbot.waitSignal(dialog.exported, timeout=60000) as done:
        dialog.start_export()
    assert done.args == [str(target)]
    assert dialog.progress.value() == 1000
    info = probe(target)
    video = read_video(target)
    assert video.n_frames == round(3.5 * 24)
    assert info.has_audio and video.audio is not None
    assert video.audio.duration == pytest.approx(3.5, abs=0.1)
    assert (video.width, video.height) == output_size(w.session.placed_clips())
    # the red square image shows first, the noise video later
    first = video.frames[5].astype(int)
    assert first[..., 0].mean() > first[..., 1].mean()

    dialog.set_format("wav")
    dialog.ranged.setChecked(True)
    dialog.start.setValue(2.0)
    dialog.end.setValue(3.0)
    wav = tmp_path / "out" / "sound.wav"
    dialog.path.setText(str(wav))
    with qtbot.waitSignal(dialog.exported, timeout=30000):
        dialog.start_export()
    sound = read_audio(wav)
    assert sound.duration == pytest.approx(1.0, abs=0.01)
    assert np.abs(sound.samples).max() > 0.1

    w.view.set_playhead(0.5)
    dialog = w.show_export_dialog()
    dialog.set_format("png")
    png = tmp_path / "out" / "frame.png"
    dialog.path.setText(str(png))
    with qtbot.waitSignal(dialog.exported, timeout=30000):
        dialog.start_export()
    frame = read_image(png)
    assert frame.pixels[..., 0].mean() > frame.pixels[..., 1].mean()

    for fmt, name in (("bundle", "cut.zip"), ("otio", "cut.otio")):
        dialog.set_format(fmt)
        dialog.path.setText(str(tmp_path / "out" / name))
        with qtbot.waitSignal(dialog.exported, timeout=30000):
            dialog.start_export()
    assert zipfile.is_zipfile(tmp_path / "out" / "cut.zip")
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(tmp_path / "out" / "cut.otio"))
    assert len(list(timeline.find_clips())) >= 3
    assert not w.session.has_unsaved_changes()  # bundle and OTIO save first


@pytest.mark.gui
def test_cancelling_an_export_in_the_dialog(window, qtbot, tmp_path: Path, media_files):
    w = window
    w.open_project(tmp_path / "long.codi")
    [vid] = w.import_files([str(media_files["image"])])
    uid = w.place_asset(w.session.version(vid).asset_id, None, 0.0)
    from dataclasses import replace

    from codi_studio.studio.commands import EditClipCommand

    w.undo.push(EditClipCommand(w.model, replace(w.model.clip(uid), duration=60.0)))  # a minute of frames: long enough to cancel
    dialog = w.show_export_dialog()
    target = tmp_path / "long.mp4"
    dialog.path.setText(str(target))
    dialog.start_export()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30000)
    dialog.cancel_or_close()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30000)
    assert "cancelled" in dialog.status.text()
    assert not target.exists()
