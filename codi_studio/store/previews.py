"""Timeline previews: thumbnails and waveform peaks, computed on first request and cached in the file."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from codi_studio.store import codec
from codi_studio.store.schema import PreviewRow
from codi_studio.store.versions import VersionOps


class PreviewOps(VersionOps):

    def thumbnail(self, version_id: int, max_side: int = 128) -> bytes | None:
        """A PNG thumbnail of an image or video version (None for text and audio); cached."""
        cached = self._cached_preview(version_id, "thumbnail", max_side)
        if cached is not None:
            return cached or None
        from codi_studio.media import thumbnail_png

        record = self.version(version_id)
        picture = codec.decode_picture(self.read_bytes(version_id), record.format, record.modality)
        png = thumbnail_png(picture, max_side) if picture is not None else None
        self._cache_preview(version_id, "thumbnail", max_side, png or b"")
        return png

    def waveform(self, version_id: int, n_bins: int = 256) -> np.ndarray | None:
        """(n_bins, 2) float32 min/max peaks of an audio version or a video's sound; cached."""
        cached = self._cached_preview(version_id, "waveform", n_bins)
        if cached is not None:
            return np.frombuffer(cached, np.float32).reshape(n_bins, 2).copy() if cached else None
        from codi_studio.media import waveform_peaks

        record = self.version(version_id)
        sound = codec.decode_sound(self.read_bytes(version_id), record.format, record.modality)
        peaks = waveform_peaks(sound, n_bins).astype(np.float32) if sound is not None else None
        self._cache_preview(version_id, "waveform", n_bins, peaks.tobytes() if peaks is not None else b"")
        return peaks

    def _cached_preview(self, version_id: int, kind: str, size: int) -> bytes | None:
        with self._read() as s:
            self._version_row(s, version_id, live=False)
            return s.scalar(
                select(PreviewRow.data).where(
                    PreviewRow.version_id == version_id, PreviewRow.kind == kind, PreviewRow.size == size
                )
            )

    def _cache_preview(self, version_id: int, kind: str, size: int, data: bytes) -> None:
        if self.read_only:
            return  # computed, just not kept
        with self._write() as s:
            if s.get(PreviewRow, (version_id, kind, size)) is None:
                s.add(PreviewRow(version_id=version_id, kind=kind, size=size, data=data))

