"""Cancelling a running generation from another thread: a flag the sampler checks every step."""

from __future__ import annotations

import threading


class CancelToken:
    """Set it from any thread; the sampling loop stops before its next step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class GenerationCancelled(Exception):
    """Raised by the sampler when its cancel token was set."""
