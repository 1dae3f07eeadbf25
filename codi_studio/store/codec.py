"""Media values <-> stored bytes, through the media layer.

Imports keep the user's file byte for byte (never re-encoded, so nothing is
lost); generated values are encoded once, deterministically (so the same
output stored twice is one blob, and a value read back and re-encoded finds
its version again): text as UTF-8, images as PNG (with the recipe in a text
chunk), audio as 24-bit PCM WAV (float WAV would be exact too, but libsndfile
stamps it with a time-dependent PEAK chunk), video as H.264/AAC MP4 (what
players and editors open). Reading back goes through a temporary file because the media layer
decodes from paths (FFmpeg needs seekable files for MP4 anyway).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from contextlib import contextmanager
from typing import Iterator, Mapping

from codi_studio.media.values import Audio, Image, MediaError, MediaValue, Modality, Text, Video
from codi_studio.store.records import MediaFacts

ENCODED_FORMAT: dict[Modality, str] = {
    Modality.TEXT: "txt",
    Modality.IMAGE: "png",
    Modality.AUDIO: "wav",
    Modality.VIDEO: "mp4",
}


def facts_of(value: MediaValue) -> MediaFacts:
    if isinstance(value, Image):
        return MediaFacts(width=value.width, height=value.height)
    if isinstance(value, Audio):
        return MediaFacts(duration=value.duration, sample_rate=value.sample_rate, channels=value.channels)
    if isinstance(value, Video):
        sound = value.audio
        return MediaFacts(
            width=value.width,
            height=value.height,
            fps=value.fps,
            frames=value.n_frames,
            duration=value.duration,
            sample_rate=sound.sample_rate if sound else None,
            channels=sound.channels if sound else None,
            has_audio=sound is not None,
        )
    return MediaFacts()


@contextmanager
def scratch_file(suffix: str) -> Iterator[Path]:
    """A path in a private temporary folder, removed afterwards whatever happens."""
    with tempfile.TemporaryDirectory(prefix="codi-store-") as folder:
        yield Path(folder) / f"medium.{suffix}"


def encode(value: MediaValue, metadata: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """The bytes to store for a value and their format (file extension)."""
    if isinstance(value, Text):
        return value.text.encode("utf-8"), "txt"
    if isinstance(value, Image):
        from codi_studio.media import png_bytes

        return png_bytes(value, metadata=dict(metadata or {})), "png"
    fmt = ENCODED_FORMAT[value.modality]
    with scratch_file(fmt) as path:
        if isinstance(value, Audio):
            from codi_studio.media import write_wav

            write_wav(path, value, subtype="PCM_24")
        else:
            from codi_studio.media import write_mp4

            write_mp4(path, value)
        return path.read_bytes(), fmt


def read_file(path: Path) -> MediaValue:
    """Decode a media file with the media layer (content is sniffed, not trusted by extension)."""
    from codi_studio.media import read_media

    return read_media(path)


def probe_file(path: Path) -> tuple[str, MediaFacts]:
    """(modality, facts) of a media file; raises MediaError for anything unreadable."""
    from codi_studio.media import probe

    info = probe(path)
    return info.modality.value, MediaFacts(
        width=info.width,
        height=info.height,
        fps=info.fps,
        frames=info.frames,
        duration=info.duration,
        sample_rate=info.sample_rate,
        channels=info.channels,
        has_audio=info.has_audio,
    )


def decode(data: bytes, fmt: str) -> MediaValue:
    """A stored medium back as a media value."""
    if fmt == "txt":
        return Text(data.decode("utf-8"))
    with scratch_file(fmt) as path:
        path.write_bytes(data)
        return read_file(path)


def decode_picture(data: bytes, fmt: str, modality: str) -> MediaValue | None:
    """What a thumbnail is made of: the image, or a video's first frames only (never the whole video)."""
    if modality == "image":
        return decode(data, fmt)
    if modality != "video":
        return None
    from codi_studio.media import read_video

    with scratch_file(fmt) as path:
        path.write_bytes(data)
        return read_video(path, end=0.5, with_audio=False)


def decode_sound(data: bytes, fmt: str, modality: str) -> Audio | None:
    """The sound of an audio version or a video's sound track (None if it has none)."""
    if modality not in ("audio", "video"):
        return None
    from codi_studio.media import read_audio

    with scratch_file(fmt) as path:
        path.write_bytes(data)
        try:
            return read_audio(path)
        except MediaError:
            if modality == "video":  # a silent video
                return None
            raise


def safe_suffix(name: str) -> str:
    """The lower-case extension of a file name, or 'bin'; only [a-z0-9] so it is safe in paths."""
    suffix = os.path.splitext(name)[1].lstrip(".").lower()
    return suffix if suffix.isalnum() and len(suffix) <= 8 else "bin"
