"""The facts of a media file (size, rate, duration, streams) without reading all of it."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import soundfile

from codi_studio.media.containers import (
    audio_stream,
    check_video_size,
    container_duration,
    decode_tolerantly,
    open_input,
    rewind,
    time_origin,
    video_stream,
)
from codi_studio.media.guard import media_errors
from codi_studio.media.images import image_frame_count, read_image
from codi_studio.media.sniff import Family, sniff
from codi_studio.media.text import read_text
from codi_studio.media.values import MediaError, Modality

# Containers whose header lacks a frame count get their packets counted, up to this many.
MAX_PACKETS_COUNTED = 1_000_000


@dataclass(frozen=True)
class MediaInfo:
    """What `probe` found; fields that do not apply to the modality are None."""

    path: str
    modality: Modality
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    has_audio: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["modality"] = self.modality.value
        return data


def _probe_image(p: Path) -> MediaInfo:
    # decoding the whole picture is the only sure way to know it is not truncated
    image = read_image(p)
    return MediaInfo(str(p), Modality.IMAGE, width=image.width, height=image.height)


def _probe_soundfile(p: Path) -> MediaInfo | None:
    try:
        info = soundfile.info(str(p))
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError):
        return None
    if info.frames <= 0 or info.samplerate <= 0:
        return None
    return MediaInfo(
        str(p),
        Modality.AUDIO,
        duration=info.frames / info.samplerate,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        has_audio=True,
    )


def _scan_packets(container: Any, stream: Any) -> tuple[int, float | None]:
    """(packets, end time in seconds after the file's start) from packet headers, no decoding.

    For formats with no frame count in the header (MPEG-PS/TS, FLV) whose durations are
    estimates from the bit rate.
    """
    origin = time_origin(container)
    count = 0
    end: float | None = None
    for packet in container.demux(stream):
        if packet.size <= 0:
            continue
        count += 1
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is not None and packet.time_base is not None:
            tail = float((stamp + (packet.duration or 0)) * packet.time_base) - origin
            end = tail if end is None else max(end, tail)
        if count >= MAX_PACKETS_COUNTED:
            break
    rewind(container)
    return count, end


def _probe_container(p: Path) -> MediaInfo:
    with open_input(p) as container:
        video = video_stream(container)
        sound = audio_stream(container)
        if video is None and sound is None:
            raise MediaError(p, "holds neither video nor audio streams")
        sample_rate = int(sound.codec_context.sample_rate) if sound is not None else None
        channels = int(sound.codec_context.channels) if sound is not None else None
        if video is None:
            assert sound is not None
            # decode one frame: a header alone does not prove the data is sound
            first = next(iter(decode_tolerantly(p, container, sound)), None)
            if first is None:
                raise MediaError(p, "contains no decodable audio")
            return MediaInfo(
                str(p),
                Modality.AUDIO,
                duration=container_duration(container, sound),
                sample_rate=sample_rate or int(first.sample_rate),
                channels=channels or len(first.layout.channels),
                has_audio=True,
            )
        check_video_size(p, video)
        duration = container_duration(container, video)
        rate = video.average_rate or video.guessed_rate
        frames = int(video.frames or 0)
        if frames <= 0:
            frames, scanned_end = _scan_packets(container, video)
            duration = scanned_end if scanned_end is not None else duration
        first = next(iter(decode_tolerantly(p, container, video)), None)
        if first is None:
            raise MediaError(p, "contains no decodable video frames")
        width, height = int(first.width), int(first.height)
        if int(round((first.rotation or 0) / 90.0)) % 2:
            width, height = height, width
        if duration is None and rate:
            duration = frames / float(rate)
        if duration is not None:
            duration = round(duration, 6)  # container clocks are in microseconds at best
        return MediaInfo(
            str(p),
            Modality.VIDEO,
            width=width,
            height=height,
            fps=float(rate) if rate else None,
            frames=frames,
            duration=duration,
            sample_rate=sample_rate,
            channels=channels,
            has_audio=sound is not None,
        )


@media_errors
def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Modality, size, rate, duration and streams of a file; MediaError when it is unreadable."""
    p = Path(path)
    kind = sniff(p)
    if kind.family is Family.TEXT:
        read_text(p)  # proves it is UTF-8
        return MediaInfo(str(p), Modality.TEXT)
    if kind.family is Family.IMAGE:
        if kind.format == "gif" and image_frame_count(p) > 1:
            return _probe_container(p)
        return _probe_image(p)
    if kind.family is Family.AUDIO:
        found = _probe_soundfile(p)
        if found is not None:
            return found
    return _probe_container(p)
