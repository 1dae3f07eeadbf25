"""Write files so a reader never sees half of one: temp file in the same folder, then os.replace."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from codi_studio.media.values import MediaError


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to `path`; on success it replaces `path`, on failure it is removed.

    Any exception inside the block becomes a MediaError naming `path` (MediaErrors pass through).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise MediaError(target, f"folder {folder} does not exist")
    # keep the real suffix so encoders that look at the name pick the right format
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=folder)
    except OSError as exc:
        raise MediaError(target, f"cannot create a file in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes 0600 files; outputs are ordinary user files
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(tmp, target)
    except MediaError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(target, f"could not write: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
