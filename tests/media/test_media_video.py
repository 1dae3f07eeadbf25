"""Video: containers and codecs, frames picked by timestamp (VFR), sound tracks, MP4 round trips."""

from __future__ import annotations

import struct
from fractions import Fraction

import av
import numpy as np
import pytest
from media_makers import Maker, frame_level, level_index, sine

from codi_studio.media import Audio, MediaError, Video, probe, read_media, read_video, write_media, write_mp4
from codi_studio.media.video import AAC_RATES


def levels(video: Video) -> list[int]:
    """Which source frame each read frame is, by its grey level."""
    return [level_index(float(f[:, :, 1].mean()), 48) for f in video.frames]


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "container"),
    [
        ("h264.mp4", "libx264", "yuv420p", "mp4"),
        ("vp8.webm", "libvpx", "yuv420p", "webm"),
        ("vp9.webm", "libvpx-vp9", "yuv420p", "webm"),
        ("h264.mov", "libx264", "yuv420p", "mov"),
        ("mjpeg.avi", "mjpeg", "yuvj420p", "avi"),
        ("camera.ts", "libx264", "yuv420p", "mpegts"),
        ("old.mpg", "mpeg2video", "yuv420p", "mpeg"),
        ("stream.flv", "libx264", "yuv420p", "flv"),
    ],
)
def test_containers_and_codecs_read_every_frame(make: Maker, name: str, codec: str, pix_fmt: str, container: str) -> None:
    path = make.av_video(name, 12, fps=12, codec=codec, pix_fmt=pix_fmt, container_format=container)
    video = read_video(path)
    assert video.frames.shape == (12, 48, 64, 3)
    assert video.fps == pytest.approx(12.0)
    assert levels(video) == list(range(12))
    assert video.audio is None
    # by timestamp, whatever time the format's clock starts at (MPEG-TS/PS start late)
    assert levels(read_video(path, n_frames=4)) == [1, 4, 7, 10]  # 0.125, 0.375, 0.625, 0.875 s
    assert levels(read_video(path, start=0.5)) == list(range(6, 12))


def test_n_frames_evenly_over_the_whole_clip(make: Maker) -> None:
    path = make.av_video("clip.mp4", 40, fps=20)  # 2 s
    video = read_video(path, n_frames=4)
    # slot centres 0.25, 0.75, 1.25, 1.75 s -> frames 5, 15, 25, 35
    assert levels(video) == [5, 15, 25, 35]
    assert video.fps == pytest.approx(2.0) and video.duration == pytest.approx(2.0)


@pytest.mark.parametrize("gop", [4, 7])
def test_sampling_jumps_between_keyframes_and_picks_the_same_frames(make: Maker, gop: int) -> None:
    path = make.av_video(f"gop{gop}.mp4", 40, fps=10, gop=gop)
    with av.open(str(path)) as container:
        keys = sum(p.is_keyframe for p in container.demux(container.streams.video[0]))
    assert keys >= 40 // gop  # the clip really has keyframes to jump to
    # slot centres 0.4, 1.2, 2.0, 2.8, 3.6 s
    assert levels(read_video(path, n_frames=5)) == [4, 12, 20, 28, 36]
    assert levels(read_video(path, n_frames=3, start=1.05, end=3.75)) == [15, 24, 33]  # 1.5, 2.4, 3.3 s
    assert levels(read_video(path, n_frames=40)) == list(range(40))


def test_time_range_reads_only_that_range(make: Maker) -> None:
    path = make.av_video("clip.mp4", 40, fps=20)
    part = read_video(path, start=0.5, end=1.0)
    assert levels(part) == list(range(10, 20))
    sampled = read_video(path, n_frames=2, start=1.0, end=2.0)
    assert levels(sampled) == [25, 35]


def test_variable_frame_rate_is_read_by_timestamp(make: Maker) -> None:
    # frame i appears at times[i]: a long hold on frame 2, then a burst
    times = [0.0, 0.1, 0.2, 1.6, 1.7, 1.8, 1.9]
    path = make.av_video("vfr.mp4", len(times), fps=10, times=times)
    video = read_video(path, n_frames=4, start=0.0, end=2.0)
    # slot centres 0.25, 0.75, 1.25, 1.75 s: frame 2 is on screen for the middle two
    assert levels(video) == [2, 2, 2, 4]
    every = read_video(path)
    assert levels(every) == list(range(len(times)))


def test_phone_rotation_matrix_is_applied(make: Maker) -> None:
    """A portrait phone clip: landscape pixels plus a 'turn 90 degrees clockwise' display matrix."""
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[:8, :8] = (255, 0, 0)  # a red top-left corner
    path = make.path("phone.mp4")
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = bytearray(path.read_bytes())
    matrix = data.index(b"tkhd") + 4 + 40  # version/flags, times, track id, duration, layer, volume
    data[matrix : matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))
    video = read_video(path)
    assert (video.width, video.height) == (48, 64)  # shown upright, as portrait
    red = np.argwhere(video.frames[0, :, :, 0] > 200)
    assert red.min(axis=0).tolist() == [0, 40] and red.max(axis=0).tolist() == [7, 47]  # now top-right
    info = probe(path)
    assert (info.width, info.height) == (48, 64)


def test_animated_gif_is_video_with_its_timing(make: Maker) -> None:
    path = make.animated_gif("anim.gif", 3, [100, 500, 100])
    value = read_media(path)
    assert isinstance(value, Video)
    assert value.n_frames == 3
    held = read_video(path, n_frames=7, start=0.0, end=0.7)  # 0.1 s slots: frame 1 shows 0.1-0.6 s
    assert levels(held) == [0, 1, 1, 1, 1, 1, 2]


def test_sound_track_comes_with_the_frames(make: Maker) -> None:
    samples = sine(2.0, 48000, channels=2, freq=300.0)
    path = make.av_video("talk.webm", 20, fps=10, codec="libvpx", container_format="webm", audio=(samples, 48000, "libopus"))
    video = read_video(path)
    assert video.audio is not None
    assert video.audio.sample_rate == 48000 and video.audio.channels == 2
    assert abs(video.audio.duration - 2.0) < 0.05
    part = read_video(path, start=1.0, end=1.5)
    assert part.audio is not None and abs(part.audio.duration - 0.5) < 0.01
    assert read_video(path, with_audio=False).audio is None


def test_middle_of_an_mpeg_ts_with_sound(make: Maker) -> None:
    """MPEG-TS has no index and a clock that starts late: seeks guess, and reads must still be right."""
    samples = sine(2.0, 48000, channels=1, freq=300.0)
    path = make.av_video("cam.ts", 24, fps=12, container_format="mpegts", audio=(samples, 48000, "aac"))
    part = read_video(path, start=1.0, end=1.5)
    assert levels(part) == list(range(12, 18))
    assert part.audio is not None and abs(part.audio.duration - 0.5) < 0.01
    # the tone is there from the first sample: no silence padded in by a wrong start time
    assert np.abs(part.audio.samples[:480]).max() > 0.3


def test_mp4_round_trip_keeps_frames_rate_duration_and_sound(make: Maker) -> None:
    frames = np.stack([np.full((32, 48, 3), frame_level(i), np.uint8) for i in range(24)])
    sound = Audio(sine(2.0, 16000, freq=440.0), 16000)
    original = Video(frames, 12.0, sound)
    path = write_media(make.path("gen.mp4"), original)
    back = read_video(path)
    assert back.frames.shape == frames.shape
    assert back.fps == pytest.approx(12.0) and back.duration == pytest.approx(2.0)
    assert levels(back) == list(range(24))
    assert np.abs(back.frames.astype(int) - frames.astype(int)).mean() < 3
    assert back.audio is not None and back.audio.sample_rate == 16000
    assert abs(back.audio.duration - 2.0) < 0.03


def test_written_mp4_is_playable_everywhere(make: Maker) -> None:
    frames = np.zeros((5, 31, 45, 3), np.uint8)  # odd sides
    path = write_mp4(make.path("odd.mp4"), Video(frames, Fraction(30000, 1001).__float__(), Audio(sine(0.2, 22050), 22050)))
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: the index comes first
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        a = container.streams.audio[0]
        assert (v.codec_context.name, v.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (v.codec_context.width, v.codec_context.height) == (46, 32)  # padded to even
        assert v.average_rate == Fraction(30000, 1001)
        assert (v.codec_context.colorspace, v.codec_context.color_primaries, v.codec_context.color_trc) == (1, 1, 1)
        assert a.codec_context.name == "aac" and a.codec_context.sample_rate == 22050
    back = read_video(path)
    assert back.width == 46 and back.height == 32 and back.n_frames == 5


def test_saturated_colours_survive_the_yuv_round_trip(make: Maker) -> None:
    colours = np.array([[220, 30, 40], [30, 200, 60], [40, 60, 210], [240, 230, 30], [128, 128, 128]], np.uint8)
    frames = np.repeat(np.repeat(colours[None, :, None, :], 16, axis=1), 16, axis=2).reshape(1, 80, 16, 3)
    back = read_video(write_mp4(make.path("colours.mp4"), Video(np.repeat(frames, 2, axis=0), 2.0), crf=0))
    centres = back.frames[0, 8::16, 8].astype(int)
    assert np.abs(centres - colours.astype(int)).max() <= 4  # a wrong matrix would be off by 10-30


def test_sound_at_a_rate_aac_lacks_is_resampled(make: Maker) -> None:
    assert 12345 not in AAC_RATES
    video = Video(np.zeros((4, 16, 16, 3), np.uint8), 4.0, Audio(sine(1.0, 12345), 12345))
    back = read_video(write_mp4(make.path("rate.mp4"), video))
    assert back.audio is not None and back.audio.sample_rate == 48000
    assert abs(back.audio.duration - 1.0) < 0.03


def test_bad_arguments_name_the_file(make: Maker) -> None:
    path = make.av_video("clip.mp4", 10, fps=10)
    with pytest.raises(MediaError, match="n_frames"):
        read_video(path, n_frames=0)
    with pytest.raises(MediaError, match="after start"):
        read_video(path, start=0.5, end=0.5)
    for n_frames in (None, 4):
        with pytest.raises(MediaError, match="no video at or after 5 s") as caught:
            read_video(path, start=5.0, n_frames=n_frames)
        assert caught.value.path == str(path)


def test_max_duration_caps_frames(make: Maker) -> None:
    path = make.av_video("clip.mp4", 30, fps=10)
    assert read_video(path, max_duration=1.0).n_frames == 10
    with pytest.raises(MediaError, match="GiB"):
        read_video(path, n_frames=500_000)  # refused up front, not an out-of-memory crash


def test_too_many_channels_leaves_no_file(make: Maker) -> None:
    video = Video(np.zeros((2, 16, 16, 3), np.uint8), 2.0, Audio(np.zeros((100, 9), np.float32), 16000))
    with pytest.raises(MediaError, match="9 audio channels"):
        write_mp4(make.path("nine.mp4"), video)
    assert list(make.folder.iterdir()) == []
