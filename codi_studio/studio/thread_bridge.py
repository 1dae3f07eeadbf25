"""Running Python work on a QThread without emitting Qt signals from it.

PySide6 6.12 on Python 3.11 corrupts reference counts when a signal is emitted
from a non-GUI thread while the GUI thread runs its event loop: even a
`Signal()` with no arguments ends, after some thousands of emits, in
"Fatal Python error: bool_dealloc / none_dealloc" (reproduced with PySide6
alone, no torch involved). So work threads never touch Qt objects: they post
plain tuples into a queue.Queue, and a QTimer on the GUI thread drains it and
calls the handlers there. The timer runs only while work is outstanding.
"""

from __future__ import annotations

import queue
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, QTimer

DRAIN_INTERVAL_MS = 15  # latency of progress updates; far below what a person notices


class PostingThread(QThread):
    """A QThread that runs `target(post)`; `post(event, *args)` is safe from this thread."""

    def __init__(self, target: Callable[[Callable[..., None]], None], outbox: "queue.Queue[tuple]",
                 name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self._target = target
        self._outbox = outbox

    def post(self, event: str, *args: Any) -> None:
        self._outbox.put((event, *args))

    def run(self) -> None:  # runs on the new thread: Python only, no Qt calls
        self._target(self.post)


class EventPump(QObject):
    """Drains a queue on the GUI thread and calls `handlers[event](*args)` for each item."""

    def __init__(self, outbox: "queue.Queue[tuple]", handlers: dict[str, Callable[..., None]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._outbox = outbox
        self._handlers = handlers
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def drain(self) -> int:
        """Handles everything posted so far; returns how many events it handled."""
        handled = 0
        while True:
            try:
                event, *args = self._outbox.get_nowait()
            except queue.Empty:
                return handled
            self._handlers[event](*args)
            handled += 1
