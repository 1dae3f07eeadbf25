"""Judging toy-world tones with plain signal processing.

- pitch track: per 64 ms frame, the fundamental by subharmonic summation over a
  log-spaced candidate grid (robust to octave errors of harmonic-rich timbres);
- color: the median fundamental around mid-clip, nearest of 220/330/440/660 Hz
  in log frequency (the glides are centred on it);
- shape: the harmonic profile, energy at 2f, 4f, 6f (even) and 3f, 5f, 7f (odd)
  relative to f, nearest of sine (none), square (odd only), sawtooth (all);
- motion: the slope of log pitch against the slope of loudness, each scaled by
  what a clean glide or ramp gives; the larger decides.
"""

from __future__ import annotations

import numpy as np

from codi_studio.toyworld import world

Verdict = dict[str, "str | None"]

FRAME = 1024
HOP = 256
PAD = 4  # zero-padding factor for finer frequency resolution
F0_RANGE = (140.0, 1100.0)  # covers 0.8 x 0.98 x 220 Hz .. 1.25 x 1.02 x 660 Hz
SILENCE_RMS = 1e-3
SUBHARMONIC_DECAY = 0.8
MIN_HARMONICITY = 0.5  # share of energy on the harmonics; the world's tones ~1, resynthesised ~0.8, noise < 0.2

# expected (even, odd) mean harmonic amplitude ratios per timbre
_PROFILES = {
    shape: (float(world.HARMONICS[shape][[1, 3, 5]].mean()), float(world.HARMONICS[shape][[2, 4, 6]].mean()))
    for shape in world.SHAPES
}
_GLIDE_SLOPE = float(np.log(world.GLIDE[1] / world.GLIDE[0]))  # ln pitch change per second
_RAMP_SLOPE = (world.LOUDNESS_RAMP[0] - world.LOUDNESS_RAMP[1]) / (0.5 * sum(world.LOUDNESS_RAMP))  # per second, relative


class Spectrogram:
    """Magnitude frames of a mono signal, with the frame times."""

    def __init__(self, signal: np.ndarray, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        if len(signal) < FRAME:
            signal = np.pad(signal, (0, FRAME - len(signal)))
        starts = np.arange(0, len(signal) - FRAME + 1, HOP)
        frames = np.stack([signal[s : s + FRAME] for s in starts]).astype(np.float64)
        self.rms = np.sqrt((frames**2).mean(axis=1))
        self.magnitude = np.abs(np.fft.rfft(frames * np.hanning(FRAME)[None, :], n=FRAME * PAD, axis=1))
        self.times = (starts + FRAME / 2) / sample_rate
        self.bin_hz = sample_rate / (FRAME * PAD)

    def band_amplitude(self, frame: int, centre_hz: float, half_width_hz: float) -> float:
        """Root energy in a band: robust to a pitch that glides within the frame."""
        lo = int(max(0, np.floor((centre_hz - half_width_hz) / self.bin_hz)))
        hi = int(np.ceil((centre_hz + half_width_hz) / self.bin_hz)) + 1
        return float(np.sqrt((self.magnitude[frame, lo:hi] ** 2).sum()))


_CANDIDATES = np.geomspace(F0_RANGE[0], F0_RANGE[1], 400)  # 0.5 % apart


def pitch_track(spec: Spectrogram) -> np.ndarray:
    """Fundamental per frame (Hz), NaN in silent frames."""
    candidates = _CANDIDATES
    nyquist = spec.sample_rate / 2
    scores = np.zeros((spec.magnitude.shape[0], len(candidates)))
    for k in range(1, world.N_HARMONICS + 1):
        bins = np.rint(k * candidates / spec.bin_hz).astype(int)
        usable = k * candidates < nyquist
        scores[:, usable] += SUBHARMONIC_DECAY ** (k - 1) * spec.magnitude[:, bins[usable]]
    best = candidates[np.argmax(scores, axis=1)]
    # refine on the strongest bin near the chosen candidate
    refined = np.empty_like(best)
    for i, f in enumerate(best):
        lo, hi = int((f * 0.97) / spec.bin_hz), int(np.ceil((f * 1.03) / spec.bin_hz)) + 1
        refined[i] = (lo + int(np.argmax(spec.magnitude[i, lo:hi]))) * spec.bin_hz
    loud = spec.rms > max(SILENCE_RMS, 0.05 * spec.rms.max())
    return np.where(loud, refined, np.nan)


def classify_color(f0_hz: float) -> str:
    return min(world.COLORS, key=lambda c: abs(np.log(f0_hz / world.FUNDAMENTAL_HZ[c])))


def harmonic_amplitudes(spec: Spectrogram, frame: int, f0: float) -> np.ndarray:
    """Band amplitudes at f0, 2 f0, ... 7 f0 (0 above Nyquist)."""
    amps = np.zeros(world.N_HARMONICS)
    for k in range(1, world.N_HARMONICS + 1):
        if k * f0 < spec.sample_rate / 2:
            amps[k - 1] = spec.band_amplitude(frame, k * f0, max(0.03 * k * f0, 2.5 * spec.sample_rate / FRAME))
    return amps


def harmonicity(spec: Spectrogram, pitch: np.ndarray, frames: np.ndarray) -> float:
    """Median share of each frame's energy that lies on the harmonics of its pitch (1 for the world's tones)."""
    shares = []
    for i in frames:
        if np.isfinite(pitch[i]):
            total = float((spec.magnitude[i, 1:] ** 2).sum())
            shares.append(float((harmonic_amplitudes(spec, i, pitch[i]) ** 2).sum()) / max(total, 1e-20))
    return float(np.median(shares)) if shares else 0.0


def harmonic_profile(spec: Spectrogram, pitch: np.ndarray, frames: np.ndarray) -> tuple[float, float]:
    """Median (even, odd) mean harmonic amplitude ratios over the given frames."""
    evens, odds = [], []
    for i in frames:
        if not np.isfinite(pitch[i]):
            continue
        amps = harmonic_amplitudes(spec, i, pitch[i])
        ratios = amps[1:] / max(amps[0], 1e-12)
        evens.append(ratios[[0, 2, 4]].mean())
        odds.append(ratios[[1, 3, 5]].mean())
    if not evens:
        return float("nan"), float("nan")
    return float(np.median(evens)), float(np.median(odds))


def classify_shape(even: float, odd: float) -> str:
    return min(world.SHAPES, key=lambda s: (even - _PROFILES[s][0]) ** 2 + (odd - _PROFILES[s][1]) ** 2)


def _slope(times: np.ndarray, values: np.ndarray) -> float:
    centred = times - times.mean()
    return float((centred * (values - values.mean())).sum() / (centred @ centred))


def classify_motion(spec: Spectrogram, pitch: np.ndarray) -> str | None:
    inner = (spec.times > 0.08) & (spec.times < spec.times.max() - 0.05) & np.isfinite(pitch)
    if inner.sum() < 4:
        return None
    t = spec.times[inner]
    pitch_score = _slope(t, np.log(pitch[inner])) / _GLIDE_SLOPE
    rms = spec.rms[inner]
    loudness_score = _slope(t, rms) / max(rms.mean(), 1e-12) / _RAMP_SLOPE
    if abs(pitch_score) >= abs(loudness_score):
        return "up" if pitch_score > 0 else "down"
    return "right" if loudness_score > 0 else "left"


def judge_audio_signal(signal: np.ndarray, sample_rate: int) -> Verdict:
    verdict: Verdict = {"shape": None, "color": None, "motion": None}
    signal = np.asarray(signal, dtype=np.float64)
    if signal.size == 0 or np.sqrt((signal**2).mean()) < SILENCE_RMS:
        return verdict
    spec = Spectrogram(signal, sample_rate)
    pitch = pitch_track(spec)
    duration = len(signal) / sample_rate
    middle = np.nonzero((np.abs(spec.times - duration / 2) <= 0.1 * duration) & np.isfinite(pitch))[0]
    if harmonicity(spec, pitch, np.arange(len(pitch))) < MIN_HARMONICITY:
        return verdict  # not a tone: noise or mush has no pitch, timbre or glide to read
    if middle.size:
        verdict["color"] = classify_color(float(np.median(pitch[middle])))
        verdict["shape"] = classify_shape(*harmonic_profile(spec, pitch, middle))
    verdict["motion"] = classify_motion(spec, pitch)
    return verdict
