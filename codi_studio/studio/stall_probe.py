"""How responsive the event loop is: a fast QTimer whose late ticks are the UI's stalls."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QTimer


class StallProbe:
    """Ticks every `interval_ms`; each gap between ticks is how long the event loop was away."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.gaps: list[int] = []
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def worst_ms(self) -> int:
        return max(self.gaps, default=0)

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now
