"""PyAV (FFmpeg) plumbing shared by the audio and video readers: open, pick streams, decode sound."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.video.stream import VideoStream

from codi_studio.media.limits import check_pixels
from codi_studio.media.values import Audio, MediaError

# After this many undecodable packets in a row the file is treated as corrupt.
MAX_CONSECUTIVE_BAD_PACKETS = 64


@contextmanager
def open_input(path: str | os.PathLike[str]) -> Iterator[InputContainer]:
    """Open a media container for reading; every FFmpeg failure becomes a MediaError naming `path`."""
    p = Path(path)
    try:
        container = av.open(str(p), mode="r", metadata_errors="replace")
    except FileNotFoundError:
        raise MediaError(p, "file not found") from None
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise MediaError(p, f"not a readable media container: {_describe(exc)}") from None
    try:
        yield container
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(p, f"corrupt or unreadable media data: {_describe(exc)}") from None
    finally:
        container.close()


def _describe(exc: BaseException) -> str:
    # FFmpeg errors repeat the errno and the path; the reason alone reads better after our path
    text = (getattr(exc, "strerror", None) or str(exc)).strip()
    return text or type(exc).__name__


def video_stream(container: InputContainer) -> VideoStream | None:
    """The main moving-picture stream; cover art (attached pictures) does not count."""
    candidates = [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic) and s.codec_context is not None
    ]
    if not candidates:
        return None
    # prefer the stream FFmpeg would pick, else the first
    try:
        best = container.streams.best("video")
    except Exception:  # noqa: BLE001 - 'best' is advisory
        best = None
    return best if best in candidates else candidates[0]


def audio_stream(container: InputContainer) -> AudioStream | None:
    """The main sound stream; streams FFmpeg could not set a decoder up for do not count."""
    candidates = [s for s in container.streams.audio if s.codec_context is not None]
    if not candidates:
        return None
    try:
        best = container.streams.best("audio")
    except Exception:  # noqa: BLE001 - 'best' is advisory
        best = None
    return best if best in candidates else candidates[0]


def time_origin(container: InputContainer) -> float:
    """Seconds at which the file's timeline starts (MPEG-TS and some MP4s do not start at 0)."""
    start = container.start_time
    return float(start) / av.time_base if start is not None and start > 0 else 0.0


def container_duration(container: InputContainer, stream: av.stream.Stream | None) -> float | None:
    """Best known duration in seconds: the stream's own, else the container's."""
    if stream is not None and stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    return None


def check_video_size(path: object, stream: VideoStream) -> None:
    check_pixels(path, int(stream.codec_context.width), int(stream.codec_context.height))


def decode_tolerantly(path: object, container: InputContainer, stream: av.stream.Stream) -> Iterator[av.frame.Frame]:
    """Decode one stream, skipping isolated damaged packets; a run of them means a corrupt file."""
    bad_in_row = 0
    decoded_any = False
    last_error: BaseException | None = None
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            bad_in_row += 1
            last_error = exc
            if bad_in_row > MAX_CONSECUTIVE_BAD_PACKETS:
                raise MediaError(path, f"corrupt media data: {_describe(exc)}") from None
            continue
        bad_in_row = 0
        for frame in frames:
            decoded_any = True
            yield frame
    if not decoded_any and last_error is not None:
        raise MediaError(path, f"corrupt media data: {_describe(last_error)}")


def rewind(container: InputContainer) -> None:
    """Back to the first packet. A container-level seek to 0 does this for every format tried;
    a stream-level seek to the stream's start time does not for MPEG-TS."""
    container.seek(0)


def seek_to(container: InputContainer, stream: av.stream.Stream, seconds: float) -> None:
    """Seek to the keyframe at or before `seconds` after the file's start (a no-op near the start).

    A fresh container is already at its start; seeking there anyway can land past the only
    keyframe of short streams, so it is not done.
    """
    if seconds <= 0.05 or stream.time_base is None:
        return
    try:
        container.seek(
            int((time_origin(container) + seconds) / stream.time_base), stream=stream, backward=True, any_frame=False
        )
    except av.FFmpegError:
        rewind(container)  # unseekable: decode from the start instead


def _decode_audio_span(
    path: object, container: InputContainer, stream: AudioStream, origin: float, start: float, end: float
) -> tuple[float, int, np.ndarray] | None:
    """(time of the first kept sample, rate, (n, channels) samples) covering [start, end) as far as decoded."""
    resampler: av.AudioResampler | None = None
    chunks: list[np.ndarray] = []
    first_kept: float | None = None
    position: float | None = None  # time just after the last decoded sample
    rate = 0
    for frame in decode_tolerantly(path, container, stream):
        if resampler is None:
            rate = int(frame.sample_rate)
            # planar float at the native rate and layout: a format change, never a resample
            resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=rate)
        t = float(frame.time) - origin if frame.time is not None else (position or 0.0)
        if t >= end:
            break
        for converted in resampler.resample(frame):
            chunk = converted.to_ndarray()
            position = t + chunk.shape[1] / rate
            if position > start:  # chunks wholly before `start` are dropped as they come
                if first_kept is None:
                    first_kept = t
                chunks.append(chunk)
            t = position
        if position is not None and position >= end:
            break
    if resampler is not None:
        chunks.extend(converted.to_ndarray() for converted in resampler.resample(None))
    if not chunks or first_kept is None:
        return None
    return first_kept, rate, np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False)


def decode_audio(
    path: object,
    container: InputContainer,
    stream: AudioStream,
    start: float,
    end: float,
) -> Audio | None:
    """Samples of `stream` in [start, end) seconds (relative to the file's start), as float32."""
    origin = time_origin(container)
    seek_to(container, stream, start)
    span = _decode_audio_span(path, container, stream, origin, start, end)
    if start > 0.05 and (span is None or span[0] > start + 0.05):
        # the seek overshot (formats without an index seek by guessing): decode from the start
        rewind(container)
        span = _decode_audio_span(path, container, stream, origin, start, end)
    if span is None:
        return None
    first_time, rate, samples = span
    offset = int(round((start - first_time) * rate))
    if offset < 0:  # the sound starts after `start`: pad with silence to keep sync
        samples = np.concatenate([np.zeros((-offset, samples.shape[1]), np.float32), samples])
        offset = 0
    wanted = int(round((end - start) * rate))
    return Audio(np.ascontiguousarray(samples[offset : offset + wanted]), rate)
