"""CLAP's audio front-end: 16 kHz waveform -> HTSAT log-mel input, as the reference computes it.

Reference path (core/models/encoders/clap.py forward, clap_modules/training/data.py
get_audio_features, open_clip/htsat.py init_spec/forward):

1. resample input_rate (16 kHz) -> sample_rate (48 kHz) with torchaudio's default
   windowed-sinc resampler (Hann window, lowpass width 6, rolloff 0.99);
2. each clip to exactly clip_samples (480000 = 10 s): shorter -> "repeatpad"
   (tiled int(max/len) times, then zero-padded); longer -> a crop of clip_samples
   (the reference picks the offset at RANDOM; we take `crop_offset`, default 0);
3. power spectrogram: Hann (periodic) window 1024, hop 480, centred with reflect
   padding (torchlibrosa Spectrogram; here torch.stft, the same transform);
4. Slaney mel filterbank 64 bands 50-14000 Hz (librosa.filters.mel defaults, here
   transformers.audio_utils.mel_filter_bank), then 10*log10(max(mel, 1e-10)) with
   ref 1.0 and no top_db (torchlibrosa LogmelFilterBank).
The result is (B, frames, mel_bins) with frames = clip_samples // hop + 1 (1001).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers.audio_utils import mel_filter_bank

from .config import ClapEncoderConfig

_LOWPASS_WIDTH = 6
_ROLLOFF = 0.99
_AMIN = 1e-10


def _sinc_kernel(orig: int, new: int, dtype: torch.dtype) -> tuple[torch.Tensor, int]:
    """Polyphase windowed-sinc filters (new, 1, taps) for orig -> new (already divided by their gcd)."""
    cutoff = min(orig, new) * _ROLLOFF
    width = math.ceil(_LOWPASS_WIDTH * orig / cutoff)
    taps = torch.arange(-width, width + orig, dtype=dtype)[None, None] / orig
    phase = torch.arange(0, -new, -1, dtype=dtype)[:, None, None] / new
    t = ((phase + taps) * cutoff).clamp(-_LOWPASS_WIDTH, _LOWPASS_WIDTH)
    window = torch.cos(t * math.pi / _LOWPASS_WIDTH / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    return sinc * window * (cutoff / orig), width


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """(..., T) at orig_rate -> (..., ceil(T*new/orig)) at new_rate (torchaudio's default algorithm)."""
    if orig_rate == new_rate:
        return wave
    g = math.gcd(orig_rate, new_rate)
    orig, new = orig_rate // g, new_rate // g
    kernel, width = _sinc_kernel(orig, new, wave.dtype)
    shape = wave.shape
    flat = F.pad(wave.reshape(-1, shape[-1]), (width, width + orig))
    out = F.conv1d(flat[:, None], kernel.to(wave.device), stride=orig)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)
    target = math.ceil(new * shape[-1] / orig)
    return out[:, :target].reshape(*shape[:-1], target)


def fit_length(wave: torch.Tensor, length: int, crop_offset: int = 0) -> torch.Tensor:
    """One clip (T,) to exactly `length` samples: repeat-pad if short, crop at crop_offset if long."""
    n = wave.shape[-1]
    if n == 0:
        raise ValueError("CLAP front-end: empty waveform")
    if n > length:
        start = min(max(crop_offset, 0), n - length)
        return wave[start:start + length]
    if n < length:
        wave = wave.repeat(length // n)
        wave = F.pad(wave, (0, length - wave.shape[-1]))
    return wave


class AudioFrontEnd(nn.Module):
    """16 kHz waveforms (B, T) -> log-mel (B, frames, mel_bins) at the HTSAT's 48 kHz settings."""

    def __init__(self, config: ClapEncoderConfig) -> None:
        super().__init__()
        self.config = config
        mel = mel_filter_bank(num_frequency_bins=config.window_size // 2 + 1, num_mel_filters=config.mel_bins,
                              min_frequency=config.fmin, max_frequency=config.fmax,
                              sampling_rate=config.sample_rate, norm="slaney", mel_scale="slaney")
        # Derived from the config: plain float32 CPU attributes, not buffers, so they are never saved, never
        # cast to a half-precision model dtype and stay real even when the module is built on "meta".
        # (The checkpoint's logmel_extractor.melW is this same matrix.)
        self.mel_filters = torch.tensor(np.asarray(mel, dtype=np.float32), device="cpu")
        self.window = torch.hann_window(config.window_size, periodic=True, dtype=torch.float32, device="cpu")

    def waveform_48k(self, wave: torch.Tensor, crop_offset: int = 0) -> torch.Tensor:
        """(B, T) at input_rate -> (B, clip_samples) at sample_rate."""
        if wave.ndim != 2:
            raise ValueError(f"CLAP front-end expects a (B, T) waveform batch, got {tuple(wave.shape)}")
        up = resample(wave.float(), self.config.input_rate, self.config.sample_rate)
        return torch.stack([fit_length(w, self.config.clip_samples, crop_offset) for w in up])

    def log_mel(self, wave48: torch.Tensor) -> torch.Tensor:
        """(B, clip_samples) at sample_rate -> (B, frames, mel_bins), always computed in float32 (as the reference)."""
        spec = torch.stft(wave48.float(), n_fft=self.config.window_size, hop_length=self.config.hop_size,
                          win_length=self.config.window_size, window=self.window.to(wave48.device), center=True,
                          pad_mode="reflect", return_complex=True)
        power = spec.real ** 2 + spec.imag ** 2  # (B, freq, frames)
        mel = power.transpose(1, 2) @ self.mel_filters.to(wave48.device)
        return 10.0 * torch.log10(mel.clamp(min=_AMIN))  # ref 1.0 -> the 10*log10(ref) term is 0

    def forward(self, wave: torch.Tensor, crop_offset: int = 0) -> torch.Tensor:
        return self.log_mel(self.waveform_48k(wave, crop_offset))
