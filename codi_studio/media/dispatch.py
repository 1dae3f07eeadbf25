"""What is in a file (by content) and the one-call readers/writers built on that."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from codi_studio.media.audio import read_audio, write_wav
from codi_studio.media.containers import audio_stream, open_input, video_stream
from codi_studio.media.guard import media_errors
from codi_studio.media.images import image_frame_count, read_image, write_png
from codi_studio.media.limits import DEFAULT_MAX_DURATION
from codi_studio.media.sniff import Family, Sniffed, sniff
from codi_studio.media.text import read_text, write_text
from codi_studio.media.values import Audio, Image, MediaError, MediaValue, Modality, Text, Video
from codi_studio.media.video import read_video, write_mp4


@media_errors
def modality_of(path: str | os.PathLike[str], sniffed: Sniffed | None = None) -> Modality:
    """The modality a file holds, judged from its content (and its streams, for containers)."""
    p = Path(path)
    kind = sniffed or sniff(p)
    if kind.family is Family.TEXT:
        return Modality.TEXT
    if kind.family is Family.IMAGE:
        if kind.format == "gif" and image_frame_count(p) > 1:
            return Modality.VIDEO
        return Modality.IMAGE
    if kind.family is Family.AUDIO:
        return Modality.AUDIO
    with open_input(p) as container:
        if video_stream(container) is not None:
            return Modality.VIDEO
        if audio_stream(container) is not None:
            return Modality.AUDIO
    raise MediaError(p, f"{kind.format} file holds neither video nor audio streams")


@media_errors
def read_media(path: str | os.PathLike[str], *, max_duration: float = DEFAULT_MAX_DURATION) -> MediaValue:
    """Read any supported file into its media value; the content decides, not the extension.

    Videos come with all their frames (up to `max_duration` seconds) and their sound track.
    Use read_video / read_audio directly for frame sampling or resampling.
    """
    p = Path(path)
    kind = sniff(p)
    modality = modality_of(p, kind)
    if modality is Modality.TEXT:
        return read_text(p)
    if modality is Modality.IMAGE:
        return read_image(p)
    if modality is Modality.AUDIO:
        return read_audio(p, max_duration=max_duration)
    return read_video(p, max_duration=max_duration)


# suffix each value type is written with
WRITE_SUFFIXES: dict[type, str] = {Text: ".txt", Image: ".png", Audio: ".wav", Video: ".mp4"}


def write_media(path: str | os.PathLike[str], value: MediaValue, metadata: Mapping[str, str] | None = None) -> Path:
    """Write `value` in its one output format (Text .txt, Image .png, Audio .wav, Video .mp4).

    `metadata` is stored only in PNGs (text chunks). The file appears whole or not at all.
    """
    target = Path(path)
    suffix = WRITE_SUFFIXES.get(type(value))
    if suffix is None:
        raise MediaError(target, f"cannot write a {type(value).__name__}")
    if target.suffix.lower() != suffix:
        raise MediaError(target, f"a {type(value).__name__} is written as {suffix}, not {target.suffix or 'no extension'}")
    if isinstance(value, Text):
        return write_text(target, value)
    if isinstance(value, Image):
        return write_png(target, value, metadata)
    if isinstance(value, Audio):
        return write_wav(target, value)
    return write_mp4(target, value)
