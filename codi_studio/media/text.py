"""UTF-8 text files (prompts, captions, generated text)."""

from __future__ import annotations

import os
from pathlib import Path

from codi_studio.media.atomic import atomic_path
from codi_studio.media.guard import media_errors
from codi_studio.media.limits import MAX_TEXT_BYTES
from codi_studio.media.sniff import require_regular_file
from codi_studio.media.values import MediaError, Text


@media_errors
def read_text(path: str | os.PathLike[str]) -> Text:
    """A UTF-8 file (a leading BOM is dropped) as Text; refuses binary and oversized files."""
    p = Path(path)
    require_regular_file(p)
    try:
        size = p.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise MediaError(p, f"text file is {size / 2**20:.1f} MiB, over the {MAX_TEXT_BYTES / 2**20:.0f} MiB limit")
        data = p.read_bytes()
    except FileNotFoundError:
        raise MediaError(p, "file not found") from None
    except IsADirectoryError:
        raise MediaError(p, "is a folder, not a file") from None
    except OSError as exc:
        raise MediaError(p, f"cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise MediaError(p, "not a text file (contains NUL bytes)")
    try:
        return Text(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MediaError(p, f"not valid UTF-8 text (byte {exc.start})") from None


def write_text(path: str | os.PathLike[str], text: Text) -> Path:
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(text.text, encoding="utf-8", newline="")
    return target
