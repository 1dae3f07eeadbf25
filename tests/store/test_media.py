"""Media in the project: imports of every modality, dedup, chunking, reading back, export, previews."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from codi_studio.media import Audio, Image, MediaError, Text, Video, read_media
from codi_studio.store import InvalidOperationError, NotFoundError, Project
from codi_studio.store.blobs import CHUNK_SIZE

from store_helpers import make_mp4, make_png, make_wav


def test_import_each_modality_with_facts(project: Project, tmp_path: Path) -> None:
    image = project.import_media(make_png(tmp_path / "still.png", size=(48, 32)))
    sound = project.import_media(make_wav(tmp_path / "tone.wav", seconds=0.5, rate=8000))
    movie = project.import_media(make_mp4(tmp_path / "clip.mp4", frames=12, fps=12.0))
    (tmp_path / "note.txt").write_text("a lighthouse at dusk", encoding="utf-8")
    note = project.import_media(tmp_path / "note.txt")
    assert (image.modality, image.facts.width, image.facts.height, image.format) == ("image", 48, 32, "png")
    assert (sound.modality, sound.facts.sample_rate, sound.facts.duration) == ("audio", 8000, 0.5)
    assert (movie.modality, movie.facts.frames, movie.facts.has_audio) == ("video", 12, True)
    assert movie.facts.duration == pytest.approx(1.0, abs=0.05)
    assert note.modality == "text" and note.origin == "import" and note.source_name == "note.txt"
    assert [a.name for a in project.assets()] == ["still.png", "tone.wav", "clip.mp4", "note.txt"]
    assert [a.name for a in project.assets(modality="audio")] == ["tone.wav"]
    # stored byte for byte, read back through the media layer
    assert project.read_bytes(image.id) == (tmp_path / "still.png").read_bytes()
    value = project.read_media(image.id)
    assert isinstance(value, Image) and np.array_equal(value.pixels, read_media(tmp_path / "still.png").pixels)
    video = project.read_media(movie.id)
    assert isinstance(video, Video) and video.n_frames == 12 and video.audio is not None
    assert project.read_media(note.id) == Text("a lighthouse at dusk")


def test_identical_media_are_stored_once(project: Project, tmp_path: Path) -> None:
    first = project.import_media(make_png(tmp_path / "a.png", seed=3))
    again = project.import_media(tmp_path / "a.png")
    copy = project.import_media(make_png(tmp_path / "copy.png", seed=3))  # same bytes, other name
    other = project.import_media(make_png(tmp_path / "b.png", seed=4))
    assert again.id == first.id and copy.id == first.id and other.id != first.id
    info = project.info()
    assert (info.assets, info.versions, info.blobs) == (2, 2, 2)
    same_value = project.add_value(Image(np.zeros((8, 8, 3), np.uint8)), "black")
    assert project.add_value(Image(np.zeros((8, 8, 3), np.uint8)), "black again").id == same_value.id


def test_large_medium_is_chunked_and_round_trips(project: Project, tmp_path: Path) -> None:
    seconds = 3 * CHUNK_SIZE / (4 * 16000) + 0.5  # a float WAV of a little over three chunks
    rng = np.random.default_rng(0)
    samples = (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)
    import soundfile

    soundfile.write(tmp_path / "long.wav", samples, 16000, subtype="FLOAT")
    version = project.import_media(tmp_path / "long.wav")
    conn = sqlite3.connect(project.path)
    try:
        sizes = [r[0] for r in conn.execute("SELECT length(data) FROM blob_chunks WHERE blob_hash = ? ORDER BY idx",
                                            (version.content_hash,))]
    finally:
        conn.close()
    assert len(sizes) == 4 and max(sizes) == CHUNK_SIZE and sum(sizes) == version.size_bytes
    assert project.read_bytes(version.id) == (tmp_path / "long.wav").read_bytes()
    value = project.read_media(version.id)
    assert isinstance(value, Audio) and np.allclose(value.samples[:, 0], samples)


def test_unreadable_file_is_refused_naming_it(project: Project, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(MediaError) as info:
        project.import_media(bad)
    assert "broken.png" in str(info.value)
    with pytest.raises(MediaError, match="no such file"):
        project.import_media(tmp_path / "absent.wav")
    assert project.info().blobs == 0


def test_export_version_writes_file_and_metadata(project: Project, tmp_path: Path) -> None:
    version = project.import_media(make_png(tmp_path / "a.png"))
    out = project.export_version(version.id, tmp_path / "exported")
    assert out.name == "exported.png" and out.read_bytes() == (tmp_path / "a.png").read_bytes()
    meta = json.loads(out.with_name("exported.png.json").read_text())
    assert meta["version"]["id"] == version.id and meta["version"]["content_hash"] == version.content_hash
    with pytest.raises(InvalidOperationError, match="stored as .png"):
        project.export_version(version.id, tmp_path / "wrong.wav")
    assert not list(tmp_path.glob(".*part*"))


def test_previews_are_computed_once_and_cached(project: Project, tmp_path: Path) -> None:
    picture = project.import_media(make_png(tmp_path / "a.png", size=(64, 40)))
    sound = project.import_media(make_wav(tmp_path / "t.wav", seconds=0.25))
    png = project.thumbnail(picture.id, max_side=16)
    assert png is not None and png.startswith(b"\x89PNG")
    assert project.thumbnail(sound.id) is None
    peaks = project.waveform(sound.id, n_bins=32)
    assert peaks is not None and peaks.shape == (32, 2) and peaks[:, 1].max() == pytest.approx(0.3, abs=0.01)
    assert project.waveform(picture.id) is None
    conn = sqlite3.connect(project.path)
    try:
        cached = conn.execute("SELECT version_id, kind, size FROM previews ORDER BY version_id, kind").fetchall()
    finally:
        conn.close()
    assert cached == [(picture.id, "thumbnail", 16), (picture.id, "waveform", 256), (sound.id, "thumbnail", 128),
                      (sound.id, "waveform", 32)]
    assert project.thumbnail(picture.id, max_side=16) == png
    assert np.array_equal(project.waveform(sound.id, n_bins=32), peaks)


def test_versions_of_an_asset_pick_and_soft_delete(project: Project) -> None:
    first = project.add_value(Text("draft one"), "script")
    second = project.add_value(Text("draft two"), "script", asset_id=first.asset_id)
    assert (second.asset_id, second.number) == (first.asset_id, 2)
    track = project.add_track("text")
    clip = project.place_clip(track.id, 0, 2, asset_id=first.asset_id)
    assert clip.version_id == second.id and clip.picked_version_id is None  # follows the latest
    clip = project.set_current_version(clip.id, first.id)
    assert clip.version_id == first.id
    assert [v.number for v in project.versions(clip_id=clip.id)] == [1, 2]
    project.delete_version(first.id)
    assert project.clip(clip.id).version_id == second.id  # falls back to the latest live version
    assert [v.number for v in project.versions(asset_id=first.asset_id)] == [2]
    assert project.version(first.id).deleted
    project.restore_version(first.id)
    assert project.clip(clip.id).version_id == first.id
    with pytest.raises(InvalidOperationError, match="used by 1 clip"):
        project.delete_asset(first.asset_id)
    with pytest.raises(NotFoundError):
        project.version(12345)


def test_video_previews(project: Project, tmp_path: Path) -> None:
    movie = project.import_media(make_mp4(tmp_path / "clip.mp4", frames=12, fps=12.0, with_audio=True))
    silent = project.import_media(make_mp4(tmp_path / "silent.mp4", frames=6, fps=12.0, with_audio=False))
    png = project.thumbnail(movie.id, max_side=16)
    assert png is not None and png.startswith(b"\x89PNG")
    peaks = project.waveform(movie.id, n_bins=8)
    assert peaks is not None and peaks.shape == (8, 2)
    assert project.waveform(silent.id, n_bins=8) is None
