"""AudioLDM's log-mel front end (audio/tools.py wav_to_fbank + audio/stft.py TacotronSTFT).

Per waveform: remove the mean, scale the peak to 0.5, cut / zero-pad to target_frames * hop
samples, |STFT| (Hann 1024, hop 160, centred with reflect padding), Slaney mel filterbank
(64 bands, 0-8 kHz, Slaney area norm, as librosa.filters.mel's defaults), log(max(x, 1e-5)),
keep the first target_frames frames. Output (B, 1, T, n_mels), time first.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn

from codi_studio.codi.autoencoders.configs import MelConfig


def _hz_to_mel_slaney(hz: np.ndarray) -> np.ndarray:
    # Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / f_sp
    log_region = hz >= min_log_hz
    mel[log_region] = min_log_mel + np.log(hz[log_region] / min_log_hz) / logstep
    return mel


def _mel_to_hz_slaney(mel: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    mel = np.asarray(mel, dtype=np.float64)
    hz = f_sp * mel
    log_region = mel >= min_log_mel
    hz[log_region] = min_log_hz * np.exp(logstep * (mel[log_region] - min_log_mel))
    return hz


def slaney_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft//2+1) triangular filters on the Slaney mel scale with Slaney area normalisation."""
    fft_freqs = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    mel_edges = np.linspace(_hz_to_mel_slaney(np.array([fmin]))[0], _hz_to_mel_slaney(np.array([fmax]))[0],
                            n_mels + 2)
    hz_edges = _mel_to_hz_slaney(mel_edges)
    widths = np.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, fft_freqs.size))
    for i in range(n_mels):
        rising = -ramps[i] / widths[i]
        falling = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (hz_edges[2:n_mels + 2] - hz_edges[:n_mels]))[:, None]
    return weights.astype(np.float32)


class MelFrontEnd(nn.Module):
    """Waveform (B, T) at config.sample_rate -> log-mel (B, 1, frames, n_mels)."""

    def __init__(self, config: MelConfig | None = None) -> None:
        super().__init__()
        self.config = config or MelConfig()
        c = self.config
        if c.win_length > c.n_fft:
            raise ValueError(f"mel config: win_length {c.win_length} exceeds n_fft {c.n_fft}")
        basis = slaney_mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax)
        # derived from config, never stored (non-persistent)
        self.register_buffer("mel_basis", torch.from_numpy(basis), persistent=False)
        self.register_buffer("window", torch.hann_window(c.win_length, periodic=True), persistent=False)

    def magnitudes(self, wave: torch.Tensor) -> torch.Tensor:
        """|STFT| (B, n_fft//2+1, frames), centred, reflect-padded."""
        c = self.config
        spec = torch.stft(wave, n_fft=c.n_fft, hop_length=c.hop_length, win_length=c.win_length,
                          window=self.window.to(wave), center=True, pad_mode="reflect",
                          return_complex=True)
        return spec.abs()

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """log mel (B, n_mels, frames) of an already prepared waveform, no normalisation."""
        mel = torch.matmul(self.mel_basis.to(wave), self.magnitudes(wave))
        return torch.log(torch.clamp(mel, min=self.config.log_floor))

    @staticmethod
    def normalize(wave: torch.Tensor) -> torch.Tensor:
        """AudioLDM's normalize_wav: zero mean, peak 0.5."""
        wave = wave - wave.mean(dim=1, keepdim=True)
        return 0.5 * wave / (wave.abs().max(dim=1, keepdim=True).values + 1e-8)

    def forward(self, wave: torch.Tensor, target_frames: int | None = None) -> torch.Tensor:
        if wave.ndim != 2:
            raise ValueError(f"waveform must be (batch, samples), got shape {tuple(wave.shape)}")
        c = self.config
        if target_frames is None:
            target_frames = c.frames_for_seconds(wave.shape[1] / c.sample_rate)
        if wave.shape[1] <= 100:
            raise ValueError(f"waveform too short ({wave.shape[1]} samples)")
        wave = self.normalize(wave.float())
        samples = target_frames * c.hop_length
        if wave.shape[1] >= samples:
            wave = wave[:, :samples]
        else:
            wave = torch.nn.functional.pad(wave, (0, samples - wave.shape[1]))
        wave = wave.clamp(-1.0, 1.0)
        mel = self.log_mel(wave)[:, :, :target_frames]
        return mel.transpose(1, 2).unsqueeze(1)
