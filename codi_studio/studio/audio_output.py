"""Sound through sounddevice, or silence with a reason when there is no device.

PortAudio may be missing (importing sounddevice raises OSError) or there may be
no output device (headless machines, CI): the studio then plays silently and
shows `unavailable_reason` in the status bar instead of crashing.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from codi_studio.media.values import Audio

log = logging.getLogger(__name__)


class AudioOutput:
    def __init__(self) -> None:
        self.unavailable_reason: str | None = None
        self._sd = None
        self._started_at: float | None = None
        try:
            import sounddevice  # noqa: PLC0415 - optional, imported where it is used

            sounddevice.query_devices(kind="output")
            self._sd = sounddevice
        except OSError as exc:  # PortAudio library missing
            self.unavailable_reason = f"audio is off: {exc}"
        except Exception as exc:  # no output device, or PortAudio refused to start
            self.unavailable_reason = f"audio is off: no output device ({exc})"
        if self.unavailable_reason:
            log.warning(self.unavailable_reason)

    @property
    def available(self) -> bool:
        return self._sd is not None

    def play(self, audio: Audio) -> None:
        """Starts playing `audio` now (non-blocking); replaces anything playing."""
        self.stop()
        self._started_at = time.monotonic()
        if self._sd is None or audio.n_samples == 0:
            return
        try:
            self._sd.play(np.asarray(audio.samples), audio.sample_rate, blocking=False)
        except Exception as exc:  # a device that vanished mid-session: carry on silently
            self.unavailable_reason = f"audio is off: {exc}"
            log.warning(self.unavailable_reason)
            self._sd = None

    def stop(self) -> None:
        self._started_at = None
        if self._sd is not None:
            try:
                self._sd.stop()
            except Exception as exc:  # stopping must never take the UI down
                log.warning("could not stop audio: %s", exc)
