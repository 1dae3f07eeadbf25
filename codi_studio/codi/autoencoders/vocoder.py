"""Mel -> waveform: AudioLDM's HiFi-GAN (transformers SpeechT5HifiGan) or parameter-free Griffin-Lim.

Both take the audio VAE's mel, (B, 1, T, n_mels) or (B, T, n_mels) time-first, and return a
float waveform (B, T * hop) in [-1, 1].
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

from codi_studio.codi.autoencoders.configs import (
    GriffinLimConfig,
    HifiGanConfig,
    VocoderConfig,
    vocoder_config_from_dict,
)
from codi_studio.codi.autoencoders.mel import slaney_mel_filterbank


def _time_first(mel: torch.Tensor) -> torch.Tensor:
    if mel.ndim == 4 and mel.shape[1] == 1:
        return mel[:, 0]
    if mel.ndim == 3:
        return mel
    raise ValueError(f"mel must be (B,1,T,n_mels) or (B,T,n_mels), got shape {tuple(mel.shape)}")


class HifiGanVocoder(SpeechT5HifiGan):
    """SpeechT5HifiGan with weight norm already folded (as the reference's remove_weight_norm leaves it).

    Differs from SpeechT5HifiGan only by `vocode`, which accepts the VAE's (B,1,T,n_mels) mel.
    """

    def __init__(self, config: HifiGanConfig | None = None) -> None:
        self.codi_config = config or HifiGanConfig.official()
        c = self.codi_config
        super().__init__(SpeechT5HifiGanConfig(
            model_in_dim=c.model_in_dim,
            sampling_rate=c.sampling_rate,
            upsample_initial_channel=c.upsample_initial_channel,
            upsample_rates=list(c.upsample_rates),
            upsample_kernel_sizes=list(c.upsample_kernel_sizes),
            resblock_kernel_sizes=list(c.resblock_kernel_sizes),
            resblock_dilation_sizes=[list(d) for d in c.resblock_dilation_sizes],
            leaky_relu_slope=c.leaky_relu_slope,
            normalize_before=False,
        ))

    @property
    def hop_length(self) -> int:
        return self.codi_config.hop_length

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        return self(_time_first(mel).to(self.conv_pre.weight.dtype))


class GriffinLimVocoder(nn.Module):
    """No weights: exp(log-mel) -> linear magnitudes by the filterbank's pseudo-inverse -> fast Griffin-Lim."""

    def __init__(self, config: GriffinLimConfig | None = None) -> None:
        super().__init__()
        self.codi_config = config or GriffinLimConfig()
        m = self.codi_config.mel
        basis = torch.from_numpy(slaney_mel_filterbank(m.sample_rate, m.n_fft, m.n_mels, m.fmin, m.fmax))
        self.register_buffer("mel_pinv", torch.linalg.pinv(basis.double()).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(m.win_length, periodic=True), persistent=False)

    @property
    def hop_length(self) -> int:
        return self.codi_config.mel.hop_length

    def _stft(self, wave: torch.Tensor) -> torch.Tensor:
        m = self.codi_config.mel
        return torch.stft(wave, m.n_fft, m.hop_length, m.win_length, self.window.to(wave), center=True,
                          pad_mode="reflect", return_complex=True)

    def _istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        m = self.codi_config.mel
        return torch.istft(spec, m.n_fft, m.hop_length, m.win_length, self.window.to(spec.real), center=True,
                           length=length)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        c = self.codi_config
        log_mel = _time_first(mel).float().transpose(1, 2)  # (B, n_mels, T)
        magnitude = torch.matmul(self.mel_pinv.to(log_mel), torch.exp(log_mel)).clamp(min=0.0)
        frames = magnitude.shape[-1]
        length = (frames - 1) * c.mel.hop_length
        gen = torch.Generator(device="cpu").manual_seed(c.seed)
        phase = torch.rand(magnitude.shape, generator=gen).to(magnitude.device) * 2 * torch.pi
        angles = torch.polar(torch.ones_like(magnitude), phase)
        previous = torch.zeros_like(angles)
        wave = self._istft(magnitude * angles, length)
        for _ in range(c.n_iter):
            rebuilt = self._stft(wave)
            accelerated = rebuilt - (c.momentum / (1 + c.momentum)) * previous
            previous = rebuilt
            angles = accelerated / (accelerated.abs() + 1e-16)
            wave = self._istft(magnitude * angles, length)
        # T frames <-> T * hop samples, as HiFi-GAN; the mel front end scales peaks to 0.5
        wave = torch.nn.functional.pad(wave, (0, c.mel.hop_length))
        return wave.clamp(-1.0, 1.0)

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        return self(mel)


Vocoder = HifiGanVocoder | GriffinLimVocoder


def build_vocoder(config: dict[str, Any] | VocoderConfig) -> Vocoder:
    """Component factory (model folder `vocoder`): `type` is 'hifigan' or 'griffin_lim'."""
    cfg = vocoder_config_from_dict(config) if isinstance(config, dict) else config
    if isinstance(cfg, HifiGanConfig):
        return HifiGanVocoder(cfg)
    return GriffinLimVocoder(cfg)
