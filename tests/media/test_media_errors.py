"""Hostile, corrupt, truncated, empty and mislabelled files: always a MediaError naming the file."""

from __future__ import annotations

import os
import struct
import time
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_makers import Maker, gradient_rgb, sine
from PIL import Image as PILImage

from codi_studio.media import (
    Audio,
    Image,
    MediaError,
    Video,
    probe,
    read_audio,
    read_image,
    read_media,
    read_text,
    read_video,
)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header announcing width x height, with almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def assert_refused(path: Path, reader, match: str | None = None) -> MediaError:
    with pytest.raises(MediaError, match=match) as caught:
        reader(path)
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    return caught.value


READERS = [read_media, probe]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", ["empty.png", "empty.wav", "empty.mp4", "empty.txt", "empty"])
def test_empty_files(make: Maker, name: str, reader) -> None:
    assert_refused(make.bytes(name, b""), reader, "empty")


@pytest.mark.parametrize("reader", READERS)
def test_png_header_claiming_ten_gigapixels(make: Maker, reader) -> None:
    path = make.bytes("bomb.png", png_claiming(100_000, 100_000))
    started = time.perf_counter()
    assert_refused(path, reader, "too large|megapixels")
    assert time.perf_counter() - started < 2.0  # refused from the header, nothing decoded


def test_just_over_64_megapixels_is_refused_and_just_under_is_not_from_the_header(make: Maker) -> None:
    assert_refused(make.bytes("over.png", png_claiming(8001, 8000)), read_image, "megapixels")
    # 8000 x 8000 passes the size guard, then fails honestly as truncated data
    error = assert_refused(make.bytes("under.png", png_claiming(8000, 8000)), read_image)
    assert "megapixels" not in error.reason


def test_gif_screen_claiming_65535_square(make: Maker) -> None:
    path = make.animated_gif("anim.gif", 2, [100, 100])
    data = bytearray(path.read_bytes())
    data[6:10] = struct.pack("<HH", 65535, 65535)  # logical screen size
    path.write_bytes(bytes(data))
    for reader in READERS:
        assert_refused(path, reader)


def test_video_frame_size_guard(make: Maker) -> None:
    """An MJPEG AVI whose stream says 9000x9000: refused before any frame is decoded."""
    small = make.pillow("tiny.jpg", PILImage.new("RGB", (16, 16), (9, 9, 9)))
    jpeg = bytearray(small.read_bytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 9000, 9000)
    path = make.path("bomb.avi")
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = 9000, 9000, "yuvj420p"
        packet = av.Packet(bytes(jpeg))
        packet.stream, packet.pts, packet.dts, packet.time_base = stream, 0, 0, Fraction(1)
        out.mux(packet)
    for reader in (read_video, read_media, probe):
        assert_refused(path, reader, "9000x9000")


@pytest.mark.parametrize("reader", READERS)
def test_truncated_png_and_jpeg(make: Maker, reader) -> None:
    pixels = gradient_rgb(64, 64)
    for name, fmt in [("cut.png", "PNG"), ("cut.jpg", "JPEG")]:
        whole = make.pillow(f"whole_{name}", PILImage.fromarray(pixels), format=fmt).read_bytes()
        assert_refused(make.bytes(name, whole[: len(whole) // 2]), reader)


@pytest.mark.parametrize("reader", READERS)
def test_mp4_cut_after_its_header(make: Maker, reader) -> None:
    whole = make.av_video("whole.mp4", 10).read_bytes()
    assert_refused(make.bytes("cut.mp4", whole[:48]), reader)


def test_mp4_with_damaged_frames_never_crashes(make: Maker) -> None:
    data = bytearray(make.av_video("whole.mp4", 30, size=(64, 64)).read_bytes())
    rng = np.random.default_rng(0)
    start = data.index(b"mdat") + 200
    data[start : start + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path = make.bytes("damaged.mp4", bytes(data))
    try:
        value = read_video(path)
    except MediaError as exc:
        assert exc.path == str(path)
    else:  # FFmpeg conceals damage: whatever comes back is a well-formed video
        assert isinstance(value, Video) and value.width == 64
    try:
        sampled = read_video(path, n_frames=8)
    except MediaError as exc:
        assert exc.path == str(path)
    else:  # asked for 8, given 8: damage never shortens a sampled clip
        assert sampled.n_frames == 8


@pytest.mark.parametrize("reader", READERS)
def test_random_bytes_under_media_names(make: Maker, reader) -> None:
    noise = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    for name in ["noise.mp4", "noise.png", "noise.wav", "noise.mp3"]:
        assert_refused(make.bytes(name, b"\x01" + noise), reader, "unrecognised")


@pytest.mark.parametrize("reader", READERS)
def test_valid_magic_followed_by_garbage(make: Maker, reader) -> None:
    noise = np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    for name, magic in [("x.mp4", b"\x00\x00\x00\x18ftypisom"), ("x.webm", b"\x1a\x45\xdf\xa3"), ("x.flac", b"fLaC"),
                        ("x.wav", b"RIFF\x24\x00\x00\x00WAVE"), ("x.png", b"\x89PNG\r\n\x1a\n"), ("x.ogg", b"OggS")]:
        assert_refused(make.bytes(name, magic + noise), reader)


def test_text_under_a_picture_name(make: Maker) -> None:
    path = make.bytes("note.png", b"just some words\n")
    for reader in READERS:
        assert_refused(path, reader, "unrecognised")


def test_bad_text_files(make: Maker) -> None:
    assert_refused(make.bytes("latin1.txt", "café".encode("latin-1")), read_text, "UTF-8")
    assert_refused(make.bytes("binary.txt", b"abc\x00def"), read_text, "NUL")
    assert read_text(make.bytes("bom.txt", "\ufeffhello".encode("utf-8"))).text == "hello"


def test_wav_header_claiming_more_data_than_there_is(make: Maker) -> None:
    path = make.sound("short.wav", sine(0.1, 8000), 8000, "WAV", "PCM_16")
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)  # RIFF size
    data[40:44] = struct.pack("<I", 0xFFFFFFF0)  # data chunk size
    path.write_bytes(bytes(data))
    audio = read_audio(path)  # what is there is read, nothing invented
    assert audio.n_samples == 800


@pytest.mark.parametrize("reader", READERS)
def test_wav_cut_inside_its_header(make: Maker, reader) -> None:
    whole = make.sound("whole.wav", sine(0.1, 8000), 8000, "WAV", "PCM_16").read_bytes()
    assert_refused(make.bytes("cut.wav", whole[:30]), reader)


def test_missing_file_and_folder(make: Maker) -> None:
    for reader in READERS + [read_image, read_audio, read_video, read_text]:
        assert_refused(make.path("nowhere.png"), reader, "not found")
    assert_refused(make.folder, read_media, "folder")


def test_pipes_and_devices_are_refused_without_blocking(make: Maker) -> None:
    fifo = make.path("pipe.wav")
    os.mkfifo(fifo)  # opening it for reading would block forever
    for reader in READERS + [read_text, read_audio, read_image, read_video]:
        assert_refused(fifo, reader, "not a regular file")
    assert_refused(Path("/dev/zero"), read_media, "not a regular file")


def test_read_audio_takes_the_sound_track_of_a_video(make: Maker) -> None:
    path = make.av_video("talk.mp4", 10, fps=10, audio=(sine(1.0, 16000), 16000, "aac"))
    audio = read_audio(path, sample_rate=8000)
    assert audio.sample_rate == 8000 and abs(audio.duration - 1.0) < 0.05


def test_wrong_extension_is_read_by_content(make: Maker) -> None:
    wav = make.sound("sound.mp4", sine(0.1, 8000), 8000, "WAV", "PCM_16")
    assert isinstance(read_media(wav), Audio)
    mp4 = make.av_video("clip.png", 4, container_format="mp4")
    assert isinstance(read_media(mp4), Video)
    assert probe(mp4).modality.value == "video"


def test_readers_refuse_the_wrong_modality(make: Maker) -> None:
    png = make.pillow("pic.png", PILImage.new("RGB", (4, 4)))
    assert_refused(png, read_audio, "not audio")
    assert_refused(png, read_video, "not video")
    wav = make.sound("s.wav", sine(0.1, 8000), 8000, "WAV", "PCM_16")
    assert_refused(wav, read_video, "no video stream")
    video_only = make.av_video("silent.mp4", 4)
    assert_refused(video_only, read_audio, "no audio stream")
    assert isinstance(read_image(png), Image)


def test_writing_into_a_missing_folder_names_it(make: Maker) -> None:
    from codi_studio.media import write_media

    target = make.path("no/such/folder/out.wav")
    with pytest.raises(MediaError, match="does not exist") as caught:
        write_media(target, Audio(sine(0.1, 8000), 8000))
    assert caught.value.path == str(target)


def test_a_failed_write_keeps_the_old_file(make: Maker) -> None:
    from codi_studio.media import write_mp4

    target = make.av_video("keep.mp4", 3)
    before = target.read_bytes()
    bad = Video(np.zeros((2, 16, 16, 3), np.uint8), 2.0, Audio(np.zeros((100, 9), np.float32), 16000))
    with pytest.raises(MediaError):
        write_mp4(target, bad)
    assert target.read_bytes() == before
    assert [p.name for p in make.folder.iterdir()] == ["keep.mp4"]  # no temp file left behind
