"""Recognise a media file by its first bytes, not by its name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from codi_studio.media.values import MediaError


class Family(str, Enum):
    """How a file must be opened; the modality may still depend on its contents (GIF, containers)."""

    IMAGE = "image"  # Pillow
    AUDIO = "audio"  # soundfile first, PyAV as fallback
    CONTAINER = "container"  # PyAV: video and/or audio streams decide the modality
    TEXT = "text"


@dataclass(frozen=True)
class Sniffed:
    family: Family
    format: str  # short name: png, jpeg, gif, wav, mp4, matroska, ...


HEAD_BYTES = 64
_TEXT_SUFFIXES = {".txt", ".md", ".text", ".prompt", ".caption"}


def _is_mp3_frame_sync(head: bytes) -> bool:
    # MPEG audio frame header: 11 sync bits, a valid version, layer III..I
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version = (head[1] >> 3) & 0x3
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0x3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def _is_adts(head: bytes) -> bool:
    # AAC ADTS header: 12 sync bits then layer == 0
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


def _looks_like_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character may be cut at the end of the sample
        if exc.start < len(sample) - 3:
            return False
    return True


def sniff_bytes(head: bytes, suffix: str = "") -> Sniffed | None:
    """The family and format these leading bytes announce, or None when unknown."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(Family.IMAGE, "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(Family.IMAGE, "jpeg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed(Family.IMAGE, "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(Family.IMAGE, "webp")
    if head[:2] == b"BM" and len(head) >= 26:
        return Sniffed(Family.IMAGE, "bmp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed(Family.IMAGE, "tiff")
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return Sniffed(Family.AUDIO, "wav")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return Sniffed(Family.AUDIO, "aiff")
    if head[:4] == b"fLaC":
        return Sniffed(Family.AUDIO, "flac")
    if head[:4] == b"OggS":
        return Sniffed(Family.CONTAINER, "ogg")
    if head[:3] == b"ID3" or _is_mp3_frame_sync(head):
        return Sniffed(Family.CONTAINER, "mp3")
    if _is_adts(head):
        return Sniffed(Family.CONTAINER, "aac")
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return Sniffed(Family.CONTAINER, "mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return Sniffed(Family.CONTAINER, "matroska")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed(Family.CONTAINER, "avi")
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:  # MPEG-TS: a sync byte every 188
        return Sniffed(Family.CONTAINER, "mpegts")
    if head[:4] == b"\x00\x00\x01\xba":
        return Sniffed(Family.CONTAINER, "mpeg")
    if head[:3] == b"FLV":
        return Sniffed(Family.CONTAINER, "flv")
    # text has no magic: trust it only when the name says text (or says nothing)
    if (suffix == "" or suffix.lower() in _TEXT_SUFFIXES) and _looks_like_text(head):
        return Sniffed(Family.TEXT, "text")
    return None


def require_regular_file(path: Path) -> None:
    """A FIFO or device would block or never end: only regular files (and missing ones, reported later) pass."""
    if path.exists() and not path.is_dir() and not path.is_file():
        raise MediaError(path, "not a regular file (pipe, socket or device)")


def sniff(path: str | os.PathLike[str]) -> Sniffed:
    """Open `path` and name its family; MediaError when missing, empty or unrecognised."""
    p = Path(path)
    require_regular_file(p)
    try:
        with open(p, "rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise MediaError(p, "file not found") from None
    except IsADirectoryError:
        raise MediaError(p, "is a folder, not a file") from None
    except OSError as exc:
        raise MediaError(p, f"cannot open: {exc.strerror or exc}") from None
    if not head:
        raise MediaError(p, "file is empty")
    found = sniff_bytes(head, p.suffix)
    if found is None:
        raise MediaError(p, f"unrecognised file format (content does not match any supported type; extension {p.suffix or 'none'})")
    return found
