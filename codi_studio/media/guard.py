"""The last line of defence: whatever a reader hits, the caller sees a MediaError naming the file."""

from __future__ import annotations

import functools
from typing import Callable, ParamSpec, TypeVar

from codi_studio.media.values import MediaError

P = ParamSpec("P")
R = TypeVar("R")


def media_errors(read: Callable[P, R]) -> Callable[P, R]:
    """Turn any failure of `read(path, ...)` into MediaError(path, reason).

    Hostile files reach corners of Pillow/FFmpeg/libsndfile that raise all kinds of exceptions;
    callers (the store, the studio, the CLI) must handle exactly one type.
    """

    @functools.wraps(read)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except MediaError:
            raise
        except MemoryError:
            raise MediaError(_path(args, kwargs), "not enough memory to decode this file") from None
        except RecursionError:
            raise MediaError(_path(args, kwargs), "file structure nests too deeply") from None
        except Exception as exc:  # noqa: BLE001 - the point of this guard
            raise MediaError(_path(args, kwargs), f"cannot read ({type(exc).__name__}: {exc})") from exc

    return guarded


def _path(args: tuple, kwargs: dict) -> object:
    return args[0] if args else kwargs.get("path", "<unknown file>")
