"""Video files: read N frames evenly over a time range (by timestamp, so VFR works), write MP4."""

from __future__ import annotations

import bisect
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Sequence

import av
import numpy as np

from codi_studio.media.atomic import atomic_path
from codi_studio.media.audio import resample_audio
from codi_studio.media.containers import (
    audio_stream,
    check_video_size,
    decode_audio,
    decode_tolerantly,
    open_input,
    rewind,
    seek_to,
    time_origin,
    video_stream,
)
from codi_studio.media.guard import media_errors
from codi_studio.media.limits import DEFAULT_MAX_DURATION, MAX_VIDEO_BYTES
from codi_studio.media.sniff import Family, sniff
from codi_studio.media.values import Audio, MediaError, Video

# FFmpeg's codes for the BT.709 matrix/primaries/transfer and for limited ("TV", 16-235) range.
BT709 = 1
LIMITED_RANGE = 1

# Sample rates FFmpeg's AAC encoder accepts; others are resampled to 48 kHz before muxing.
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


# --- reading --------------------------------------------------------------------------------


def _upright(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """RGB pixels of a decoded frame at the stream's first size, turned per its display matrix."""
    width, height = size
    if frame.width != width or frame.height != height:  # mid-stream size change: keep one shape
        pixels = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    else:
        pixels = frame.to_ndarray(format="rgb24")
    # phone videos store a rotation (counter-clockwise degrees) instead of turned pixels
    turns = int(round((frame.rotation or 0) / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(pixels, k=turns)) if turns else pixels


def _frame_times(
    frames: Iterator[av.VideoFrame], origin: float, rate: float
) -> Iterator[tuple[float, av.VideoFrame]]:
    """(seconds on the file's timeline, frame); frames without timestamps are spaced by the rate."""
    last: float | None = None
    for frame in frames:
        t = frame.time
        if t is None:
            t_rel = 0.0 if last is None else last + 1.0 / rate
        else:
            t_rel = float(t) - origin
        last = t_rel
        yield t_rel, frame


def _scan_index(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    origin: float,
    start: float,
    stop: float,
) -> tuple[list[tuple[float, int]], float | None]:
    """Keyframes (seconds after the file's start, pts) and where the pictures end, within [start, stop].

    Reads packet headers only (no decoding). Header durations are estimates in some formats
    (MPEG-PS/TS) and absent in others; packet timestamps are the truth.
    """
    keyframes: list[tuple[float, int]] = []
    end: float | None = None
    seek_to(container, stream, start)
    for packet in container.demux(stream):
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None or packet.time_base is None:
            continue
        t = float(stamp * packet.time_base) - origin
        if t > stop:
            break
        if packet.is_keyframe:
            keyframes.append((t, int(stamp)))
        tail = t + float((packet.duration or 0) * packet.time_base)
        end = tail if end is None else max(end, tail)
    rewind(container)
    keyframes.sort()
    return keyframes, end


def _pick_at_times(
    path: Path,
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    targets: Sequence[float],
    size: tuple[int, int],
    keyframes: Sequence[tuple[float, int]],
    rate: float,
) -> list[np.ndarray]:
    """For each target time, the frame on screen then (the last one starting at or before it).

    Decoding jumps to the keyframe before a target whenever that keyframe lies ahead of what
    was decoded already, so a few frames from a long video cost a few short decodes.
    """
    origin = time_origin(container)
    key_times = [t for t, _ in keyframes]
    timed: Iterator[tuple[float, av.VideoFrame]] | None = None
    ahead: tuple[float, av.VideoFrame] | None = None  # decoded, not yet on screen at the current target
    shown: av.VideoFrame | None = None
    shown_pixels: np.ndarray | None = None
    decoded_until = -math.inf
    seeks_work = True
    picked: list[np.ndarray] = []
    for target in targets:
        index = bisect.bisect_right(key_times, target + 1e-6) - 1
        jump = keyframes[index] if index >= 0 else None
        if timed is None or (seeks_work and jump is not None and jump[0] > decoded_until + 1e-6):
            if jump is not None and seeks_work:
                container.seek(jump[1], stream=stream, backward=True, any_frame=False)
            else:
                rewind(container)
            timed = _frame_times(decode_tolerantly(path, container, stream), origin, rate)
            ahead, shown, shown_pixels = None, None, None
            if jump is not None and seeks_work:
                ahead = next(timed, None)
                if ahead is None or ahead[0] > jump[0] + 1e-3:
                    # landed past the keyframe (formats that seek by guessing): decode in one pass instead
                    seeks_work = False
                    rewind(container)
                    timed = _frame_times(decode_tolerantly(path, container, stream), origin, rate)
                    ahead = None
                else:
                    decoded_until = ahead[0]
        while True:
            if ahead is None:
                ahead = next(timed, None)
                if ahead is None:
                    break  # end of stream: the last frame stays on screen
                decoded_until = ahead[0]
            if ahead[0] > target + 1e-6:
                break
            shown, shown_pixels, ahead = ahead[1], None, None
        if shown is None:  # the first frame starts after the target: it is still the best we have
            if ahead is None:  # nothing decodable from here on (a damaged tail): repeat the last picture
                if not picked:
                    break
                picked.append(picked[-1])
                continue
            shown = ahead[1]
        if shown_pixels is None:
            shown_pixels = _upright(shown, size)
        picked.append(shown_pixels)
    return picked


def _all_in_range(
    path: Path, timed: Iterator[tuple[float, av.VideoFrame]], start: float, end: float, size: tuple[int, int]
) -> tuple[list[np.ndarray], float | None, float | None]:
    """Every frame starting in [start, end), the time of the first frame decoded and of the last kept."""
    frame_bytes = size[0] * size[1] * 3
    kept: list[np.ndarray] = []
    first: float | None = None
    last: float | None = None
    for t, frame in timed:
        if first is None:
            first = t
        if t >= end - 1e-6:
            break
        if t < start - 1e-6:
            continue
        if (len(kept) + 1) * frame_bytes > MAX_VIDEO_BYTES:
            raise MediaError(
                path,
                f"reading every frame of {start:g}-{end:g} s needs over {MAX_VIDEO_BYTES / 2**30:.0f} GiB; "
                "ask for fewer frames (n_frames) or a shorter range",
            )
        kept.append(_upright(frame, size))
        last = t
    return kept, first, last


@media_errors
def read_video(
    path: str | os.PathLike[str],
    *,
    n_frames: int | None = None,
    start: float = 0.0,
    end: float | None = None,
    with_audio: bool = True,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> Video:
    """Frames of [start, end) seconds: all of them, or `n_frames` taken at evenly spaced times.

    With `n_frames`, frame i is the one on screen at start + (i + 0.5) * span / n_frames and the
    Video's fps is n_frames / span, so its duration is the span. The sound track of the same
    range comes along when present and `with_audio`. At most `max_duration` seconds are read.
    """
    p = Path(path)
    if n_frames is not None and n_frames < 1:
        raise MediaError(p, f"n_frames must be at least 1, got {n_frames}")
    if start < 0 or not math.isfinite(start):
        raise MediaError(p, f"start must be a finite number >= 0, got {start}")
    if end is not None and not end > start:
        raise MediaError(p, f"end ({end:g} s) must be after start ({start:g} s)")
    if not max_duration > 0:
        raise MediaError(p, f"max_duration must be positive, got {max_duration}")
    kind = sniff(p)
    if kind.family is Family.TEXT or (kind.family is Family.IMAGE and kind.format != "gif"):
        raise MediaError(p, f"is a {kind.format} {kind.family.value} file, not video")

    with open_input(p) as container:
        stream = video_stream(container)
        if stream is None:
            raise MediaError(p, "has no video stream")
        check_video_size(p, stream)
        stream.thread_type = "AUTO"
        size = (int(stream.codec_context.width), int(stream.codec_context.height))
        if n_frames is not None and n_frames * size[0] * size[1] * 3 > MAX_VIDEO_BYTES:
            raise MediaError(p, f"{n_frames} frames of {size[0]}x{size[1]} need over {MAX_VIDEO_BYTES / 2**30:.0f} GiB")
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        origin = time_origin(container)
        limit = start + max_duration if end is None else min(end, start + max_duration)

        if n_frames is not None:
            keyframes, pictures_end = _scan_index(container, stream, origin, start, limit)
            if pictures_end is None or pictures_end <= start:
                raise MediaError(p, f"no video at or after {start:g} s (the pictures end at {pictures_end or 0:.3f} s)")
            stop = limit if end is not None else min(limit, pictures_end)
            span = stop - start
            targets = [start + (i + 0.5) * span / n_frames for i in range(n_frames)]
            frames = _pick_at_times(p, container, stream, targets, size, keyframes, rate)
            fps = n_frames / span
        else:
            seek_to(container, stream, start)
            timed = _frame_times(decode_tolerantly(p, container, stream), origin, rate)
            frames, first_time, last_time = _all_in_range(p, timed, start, limit, size)
            if start > 0.05 and (first_time is None or first_time > start + 1.0 / rate):
                # the seek overshot (formats without an index seek by guessing): decode from the start
                rewind(container)
                timed = _frame_times(decode_tolerantly(p, container, stream), origin, rate)
                frames, first_time, last_time = _all_in_range(p, timed, start, limit, size)
            # the sound track should cover what was read, not the whole allowance
            stop = limit if end is not None or last_time is None else min(limit, last_time + 1.0 / rate)
            fps = rate
    if not frames:
        raise MediaError(p, f"no video at or after {start:g} s" if start > 0 else "contains no decodable video frames")

    audio = _read_track(p, start, stop) if with_audio else None
    return Video(np.stack(frames), fps, audio)


def _read_track(path: Path, start: float, stop: float) -> Audio | None:
    with open_input(path) as container:
        stream = audio_stream(container)
        if stream is None:
            return None
        audio = decode_audio(path, container, stream, start, stop)
    return audio if audio is not None and audio.n_samples > 0 else None


# --- writing --------------------------------------------------------------------------------


def _even_frames(frames: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: repeat the last row/column rather than drop pixels."""
    _, height, width, _ = frames.shape
    pad_h, pad_w = height % 2, width % 2
    if not (pad_h or pad_w):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def _frame_rate(fps: float) -> Fraction:
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return rate


def _audio_layout(channels: int) -> str:
    named = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
    if channels not in named:
        raise ValueError(f"cannot write {channels} audio channels to AAC (at most 8)")
    return named[channels]


def write_mp4(
    path: str | os.PathLike[str],
    video: Video,
    *,
    crf: int = 18,
    preset: str = "medium",
    audio_bitrate: int = 192_000,
) -> Path:
    """H.264 (yuv420p, BT.601 tagged) + AAC in MP4 with the index up front (faststart)."""
    target = Path(path)
    frames = _even_frames(np.asarray(video.frames))
    _, height, width, _ = frames.shape
    with atomic_path(target) as tmp:
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream = output.add_stream("libx264", rate=_frame_rate(video.fps))
            stream.width, stream.height = width, height
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(int(crf)), "preset": preset}
            # convert with the BT.709 matrix and say so: untagged video gets guessed differently by players
            context = stream.codec_context
            context.colorspace = context.color_primaries = context.color_trc = BT709
            context.color_range = LIMITED_RANGE
            sound = video.audio
            sound_stream = None
            if sound is not None and sound.n_samples > 0:
                if sound.sample_rate not in AAC_RATES:
                    sound = resample_audio(sound, 48000)
                sound_stream = output.add_stream("aac", rate=sound.sample_rate, layout=_audio_layout(sound.channels))
                sound_stream.bit_rate = audio_bitrate
            for index, pixels in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(
                    format="yuv420p", dst_colorspace=av.video.reformatter.Colorspace.ITU709
                )
                frame.pts = index
                output.mux(stream.encode(frame))
            output.mux(stream.encode(None))
            if sound_stream is not None and sound is not None:
                planar = np.ascontiguousarray(np.clip(sound.samples, -1.0, 1.0).T, dtype=np.float32)
                chunk = 1024 * 8
                for begin in range(0, planar.shape[1], chunk):
                    piece = av.AudioFrame.from_ndarray(
                        np.ascontiguousarray(planar[:, begin : begin + chunk]),
                        format="fltp",
                        layout=_audio_layout(sound.channels),
                    )
                    piece.sample_rate = sound.sample_rate
                    piece.pts = begin
                    output.mux(sound_stream.encode(piece))
                output.mux(sound_stream.encode(None))
    return target
