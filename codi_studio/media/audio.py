"""Sound files: read any common format into Audio (optionally resampled / mono), write WAV."""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

from codi_studio.media.atomic import atomic_path
from codi_studio.media.containers import audio_stream, decode_audio, open_input
from codi_studio.media.guard import media_errors
from codi_studio.media.limits import DEFAULT_MAX_DURATION
from codi_studio.media.sniff import Family, sniff
from codi_studio.media.values import Audio, MediaError

WAV_SUBTYPES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT")


# --- conversions ---------------------------------------------------------------------------


def to_mono(audio: Audio) -> Audio:
    """Channels averaged into one."""
    if audio.channels == 1:
        return audio
    return Audio(audio.mono()[:, None], audio.sample_rate)


def resample_audio(audio: Audio, sample_rate: int) -> Audio:
    """Band-limited polyphase resampling (scipy resample_poly, Kaiser window) to `sample_rate`."""
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if sample_rate == audio.sample_rate:
        return audio
    from scipy.signal import resample_poly  # scipy.signal costs seconds to import: only when resampling

    ratio = Fraction(sample_rate, audio.sample_rate)
    if audio.n_samples == 0:
        return Audio(np.zeros((0, audio.channels), np.float32), sample_rate)
    out = resample_poly(audio.samples.astype(np.float64), ratio.numerator, ratio.denominator, axis=0)
    # resample_poly rounds the length up; keep exactly n * ratio samples so durations stay exact
    n_out = int(math.floor(audio.n_samples * ratio + Fraction(1, 2)))
    return Audio(np.ascontiguousarray(out[:n_out], dtype=np.float32), sample_rate)


def convert_audio(audio: Audio, sample_rate: int | None = None, mono: bool = False) -> Audio:
    """Mono first (less to resample), then to `sample_rate` when given."""
    if mono:
        audio = to_mono(audio)
    if sample_rate is not None:
        audio = resample_audio(audio, sample_rate)
    return audio


# --- reading --------------------------------------------------------------------------------


def _read_with_soundfile(path: Path, start: float, max_duration: float) -> Audio:
    with soundfile.SoundFile(str(path)) as handle:
        rate = int(handle.samplerate)
        first = min(int(round(start * rate)), handle.frames) if handle.frames > 0 else 0
        count = int(round(max_duration * rate))
        if handle.seekable() and first > 0:
            handle.seek(first)
        samples = handle.read(frames=count, dtype="float32", always_2d=True)
    return Audio(samples, rate)


def _read_with_av(path: Path, start: float, max_duration: float) -> Audio:
    with open_input(path) as container:
        stream = audio_stream(container)
        if stream is None:
            raise MediaError(path, "has no audio stream")
        audio = decode_audio(path, container, stream, start, start + max_duration)
        if audio is None:
            raise MediaError(path, "contains no decodable audio")
        return audio


@media_errors
def read_audio(
    path: str | os.PathLike[str],
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    start: float = 0.0,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> Audio:
    """Read WAV/FLAC/AIFF (libsndfile) or OGG/MP3/M4A/AAC/Opus or a video's sound track (FFmpeg).

    Reads at most `max_duration` seconds from `start`; converts to `sample_rate` and/or mono when asked.
    """
    p = Path(path)
    if start < 0 or not math.isfinite(start):
        raise MediaError(p, f"start must be a finite number >= 0, got {start}")
    if not max_duration > 0:
        raise MediaError(p, f"max_duration must be positive, got {max_duration}")
    kind = sniff(p)
    if kind.family in (Family.IMAGE, Family.TEXT):
        raise MediaError(p, f"is a {kind.format} {kind.family.value} file, not audio")
    audio: Audio | None = None
    if kind.family is Family.AUDIO:
        try:
            audio = _read_with_soundfile(p, start, max_duration)
        except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError):
            audio = None  # e.g. a WAV holding a codec libsndfile lacks: let FFmpeg try
    if audio is None:
        audio = _read_with_av(p, start, max_duration)
    if audio.n_samples == 0:
        raise MediaError(p, "contains no audio samples" + (f" after {start:g} s" if start > 0 else ""))
    if not np.all(np.isfinite(audio.samples)):
        audio = Audio(np.nan_to_num(audio.samples, nan=0.0, posinf=1.0, neginf=-1.0), audio.sample_rate)
    try:
        return convert_audio(audio, sample_rate, mono)
    except ValueError as exc:
        raise MediaError(p, str(exc)) from None


# --- writing --------------------------------------------------------------------------------


def write_wav(path: str | os.PathLike[str], audio: Audio, subtype: str = "PCM_16") -> Path:
    """Write a WAV file (16-bit PCM by default; samples are clipped to [-1, 1] for integer formats)."""
    target = Path(path)
    if subtype not in WAV_SUBTYPES:
        raise MediaError(target, f"unsupported WAV subtype {subtype!r} (expected one of: {', '.join(WAV_SUBTYPES)})")
    samples = np.asarray(audio.samples)
    if subtype != "FLOAT":
        samples = np.clip(samples, -1.0, 1.0)
    with atomic_path(target) as tmp:
        soundfile.write(str(tmp), samples, audio.sample_rate, subtype=subtype, format="WAV")
    return target
