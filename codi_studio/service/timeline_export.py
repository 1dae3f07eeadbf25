"""Render a project's timeline to files: MP4 with mixed-down sound, WAV, a PNG frame.

No Qt and no torch: this reads the saved timeline through the project store,
decodes clips through the media layer, composites pictures and mixes sound
with numpy, and writes through the media layer. The studio's export dialog
runs it on a worker thread with a progress callback and a cancel token; the
CLI could call it the same way.

Compositing rule: at each instant the picture comes from the last visual
track (image or video, in track order) that has an unmuted clip there, so
output tracks, which follow condition tracks, cover the inputs. Text clips
have no picture. Sound is the sum of every unmuted audio clip and every video
clip's own sound track, resampled to one rate and limited to a peak of 0.99.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from codi_studio.media import resample_audio, to_mono, write_mp4, write_png, write_wav
from codi_studio.media.values import Audio, Image, MediaValue, Modality, Video
from codi_studio.service.requests import CancelToken

ExportProgress = Callable[[float, str], None]  # fraction done 0..1, what is happening

DEFAULT_FPS = 24.0
MIN_SIDE = 256  # toy-world media is 64 px: export big enough to look at
MAX_SIDE = 1920


class ExportCancelled(Exception):
    """The export's cancel token was set; no file was written."""


class ExportError(Exception):
    """Nothing to export, or a bad range; names what is wrong."""


@dataclass(frozen=True)
class PlacedClip:
    """A clip with its decoded medium, as the renderer needs it."""

    kind: Modality
    track_order: int
    start: float
    duration: float
    in_point: float
    value: MediaValue

    @property
    def end(self) -> float:
        return self.start + self.duration

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


def timeline_of(project: Any) -> list[PlacedClip]:
    """The saved timeline of a store `Project`: every clip of every unmuted track, decoded."""
    placed: list[PlacedClip] = []
    cache: dict[int, MediaValue] = {}
    for order, track in enumerate(project.tracks()):
        if track.muted:
            continue
        kind = Modality.parse(track.kind)
        for clip in track.clips:
            if clip.deleted or clip.version_id is None:
                continue
            if clip.version_id not in cache:
                cache[clip.version_id] = project.read_version(clip.version_id)
            placed.append(PlacedClip(kind, order, clip.start, clip.duration, clip.in_point, cache[clip.version_id]))
    return placed


def timeline_span(clips: Sequence[PlacedClip]) -> float:
    return max((c.end for c in clips), default=0.0)


def output_size(clips: Sequence[PlacedClip], min_side: int = MIN_SIDE) -> tuple[int, int]:
    """The largest picture on the timeline, scaled up to `min_side` and down to MAX_SIDE, even sides."""
    sizes = [(c.value.width, c.value.height) for c in clips if isinstance(c.value, (Image, Video))]
    if not sizes:
        return (max(2, min_side), max(2, min_side))
    width, height = max(sizes, key=lambda s: s[0] * s[1])
    scale = max(1.0, min_side / max(width, height))
    scale = min(scale, MAX_SIDE / max(width * scale, height * scale) * scale)
    return (_even(width * scale), _even(height * scale))


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _picture_at(clip: PlacedClip, t: float) -> np.ndarray:
    value = clip.value
    if isinstance(value, Image):
        return np.asarray(value.pixels)
    assert isinstance(value, Video)
    source_t = clip.in_point + (t - clip.start)
    index = min(value.n_frames - 1, max(0, int(math.floor(source_t * value.fps + 1e-6))))
    return np.asarray(value.frames[index])


def _fit(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """Letterboxed onto a black canvas; nearest-neighbour when enlarging keeps small art crisp."""
    from PIL import Image as PILImage  # noqa: PLC0415 - Pillow is already loaded by the media layer

    h, w = pixels.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    if (new_w, new_h) == (w, h):
        resized = pixels
    else:
        resample = PILImage.Resampling.NEAREST if scale >= 2 else PILImage.Resampling.BOX if scale < 1 \
            else PILImage.Resampling.BILINEAR
        resized = np.asarray(PILImage.fromarray(np.ascontiguousarray(pixels)).resize((new_w, new_h), resample))
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    canvas[y:y + new_h, x:x + new_w] = resized
    return canvas


def render_frame(clips: Sequence[PlacedClip], t: float, size: tuple[int, int]) -> Image:
    """The composited picture at timeline time `t` (black where no picture is)."""
    width, height = size
    visual = [c for c in clips if c.kind in (Modality.IMAGE, Modality.VIDEO) and c.covers(t)]
    if not visual:
        return Image(np.zeros((height, width, 3), np.uint8))
    top = max(visual, key=lambda c: (c.track_order, c.start))
    return Image(_fit(_picture_at(top, t), width, height))


def mix_audio(clips: Sequence[PlacedClip], start: float, end: float, sample_rate: int | None = None) -> Audio:
    """Every sound on the timeline between start and end, summed into one mono track."""
    sounds: list[tuple[PlacedClip, Audio]] = []
    for c in clips:
        if c.kind == Modality.AUDIO and isinstance(c.value, Audio):
            sounds.append((c, c.value))
        elif c.kind == Modality.VIDEO and isinstance(c.value, Video) and c.value.audio is not None:
            sounds.append((c, c.value.audio))
    rate = sample_rate or max((a.sample_rate for _, a in sounds), default=16000)
    n = max(0, int(round((end - start) * rate)))
    mix = np.zeros(n, np.float32)
    for clip, audio in sounds:
        if clip.end <= start or clip.start >= end:
            continue
        mono = to_mono(audio if audio.sample_rate == rate else resample_audio(audio, rate)).samples[:, 0]
        # the part of the clip inside [start, end), in timeline and in source samples
        t0 = max(clip.start, start)
        t1 = min(clip.end, end)
        src0 = int(round((clip.in_point + t0 - clip.start) * rate))
        dst0 = int(round((t0 - start) * rate))
        count = min(int(round((t1 - t0) * rate)), len(mono) - src0, n - dst0)
        if count > 0 and src0 >= 0:
            mix[dst0:dst0 + count] += mono[src0:src0 + count]
    peak = float(np.max(np.abs(mix))) if n else 0.0
    if peak > 0.99:
        mix *= 0.99 / peak
    return Audio(mix[:, None], rate)


def _range(clips: Sequence[PlacedClip], start: float | None, end: float | None) -> tuple[float, float]:
    a = 0.0 if start is None else float(start)
    b = timeline_span(clips) if end is None else float(end)
    if b - a <= 0:
        raise ExportError("nothing to export: the timeline (or the chosen range) is empty")
    return a, b


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise ExportCancelled("export cancelled")


def export_mp4(
    clips: Sequence[PlacedClip],
    path: str | Path,
    start: float | None = None,
    end: float | None = None,
    fps: float = DEFAULT_FPS,
    size: tuple[int, int] | None = None,
    progress: ExportProgress | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """The timeline (or [start, end)) as H.264 + AAC; returns the written path."""
    a, b = _range(clips, start, end)
    width, height = size or output_size(clips)
    n_frames = max(1, int(round((b - a) * fps)))
    frames = np.zeros((n_frames, height, width, 3), np.uint8)
    for i in range(n_frames):
        _check(cancel)
        frames[i] = render_frame(clips, a + i / fps, (width, height)).pixels
        if progress is not None and (i % 8 == 0 or i == n_frames - 1):
            progress(0.8 * (i + 1) / n_frames, f"frame {i + 1} of {n_frames}")
    _check(cancel)
    if progress is not None:
        progress(0.85, "mixing sound")
    sound = mix_audio(clips, a, a + n_frames / fps)
    has_sound = sound.n_samples > 0 and bool(np.any(sound.samples))
    _check(cancel)
    if progress is not None:
        progress(0.9, "encoding")
    written = write_mp4(path, Video(frames, fps, sound if has_sound else None))
    if progress is not None:
        progress(1.0, "done")
    return written


def export_wav(
    clips: Sequence[PlacedClip],
    path: str | Path,
    start: float | None = None,
    end: float | None = None,
    progress: ExportProgress | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    a, b = _range(clips, start, end)
    _check(cancel)
    if progress is not None:
        progress(0.3, "mixing sound")
    sound = mix_audio(clips, a, b)
    _check(cancel)
    written = write_wav(path, sound)
    if progress is not None:
        progress(1.0, "done")
    return written


def export_frame_png(clips: Sequence[PlacedClip], path: str | Path, t: float,
                     size: tuple[int, int] | None = None) -> Path:
    """The picture at the playhead as a PNG (with the time in its metadata)."""
    picture = render_frame(clips, t, size or output_size(clips))
    return write_png(path, picture, metadata={"codi-studio:time": f"{t:.3f}"})
