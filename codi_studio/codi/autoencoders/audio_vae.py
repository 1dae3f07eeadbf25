"""CoDi's audio VAE (`audioldm`): log-mel front end + a 1-channel diffusers AutoencoderKL.

16 kHz waveform -> log-mel image (B,1,T,64) -> scaled latent (B,8,T/4,16) and back to mel.
Turning the mel into sound is the vocoder's job (a separate model component); attach one with
`attach_vocoder` to use `vocode` / `decode_to_wave` here.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

from codi_studio.codi.autoencoders.configs import AudioVAEConfig
from codi_studio.codi.autoencoders.image_vae import build_autoencoder_kl
from codi_studio.codi.autoencoders.mel import MelFrontEnd
from codi_studio.codi.autoencoders.vocoder import Vocoder


class AudioVAE(nn.Module):
    def __init__(self, config: AudioVAEConfig | None = None, vocoder: Vocoder | None = None) -> None:
        super().__init__()
        self.config = config or AudioVAEConfig.official()
        c = self.config
        kl = build_autoencoder_kl(1, 1, c.latent_channels, c.block_out_channels, c.layers_per_block,
                                  c.norm_num_groups, sample_size=256, scaling_factor=c.scaling_factor)
        self.encoder = kl.encoder
        self.decoder = kl.decoder
        self.quant_conv = kl.quant_conv
        self.post_quant_conv = kl.post_quant_conv
        self.mel = MelFrontEnd(c.mel)
        # not a child module: the vocoder is its own component with its own weights file
        self._vocoder: list[Vocoder] = [vocoder] if vocoder is not None else []

    @classmethod
    def from_config_dict(cls, data: dict[str, Any]) -> "AudioVAE":
        return cls(AudioVAEConfig.from_dict(data))

    @property
    def scaling_factor(self) -> float:
        return self.config.scaling_factor

    def attach_vocoder(self, vocoder: Vocoder | None) -> None:
        self._vocoder = [vocoder] if vocoder is not None else []

    def wave_to_mel(self, wave: torch.Tensor, seconds: float | None = None) -> torch.Tensor:
        """(B,T) 16 kHz -> log-mel (B,1,int(seconds*102.4),64); seconds defaults to the clip's length."""
        frames = None if seconds is None else self.config.mel.frames_for_seconds(seconds)
        return self.mel(wave, frames)

    def posterior(self, mel: torch.Tensor) -> DiagonalGaussianDistribution:
        """The unscaled posterior of a log-mel image (B,1,T,n_mels)."""
        return DiagonalGaussianDistribution(self.quant_conv(self.encoder(mel)))

    def encode(self, wave: torch.Tensor, seconds: float | None = None, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Waveform (B,T) float at 16 kHz -> scaled latent (B,8,T',16), T' = frames/4.

        sample=False gives the posterior mean; sample=True draws from it (CoDi's audioldm_encode).
        """
        post = self.posterior(self.wave_to_mel(wave, seconds).to(self.quant_conv.weight.dtype))
        z = post.sample(generator=generator) if sample else post.mean
        return z * self.config.scaling_factor

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Scaled latent (B,8,T',16) -> log-mel (B,1,4T',64).

        CoDi's audioldm_decode rule: a latent with any |z| > 100 is clipped to [-10, 10] first.
        """
        c = self.config
        if torch.max(torch.abs(latent)) > c.clip_threshold:
            latent = torch.clamp(latent, -c.clip_value, c.clip_value)
        return self.decoder(self.post_quant_conv(latent / c.scaling_factor))

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel (B,1,T,64) -> waveform (B, T*hop) with the attached vocoder."""
        if not self._vocoder:
            raise RuntimeError("AudioVAE has no vocoder attached (attach_vocoder(build_vocoder(...)))")
        return self._vocoder[0].vocode(mel)

    def decode_to_wave(self, latent: torch.Tensor) -> torch.Tensor:
        return self.vocode(self.decode(latent))


def build_audio_vae(config: dict[str, Any]) -> AudioVAE:
    """Component factory (model folder `type: audio_vae`)."""
    return AudioVAE.from_config_dict(config)
