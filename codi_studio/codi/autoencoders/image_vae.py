"""CoDi's image / video-frame VAE (`autokl`, SD kl-f8) on diffusers' AutoencoderKL parts.

The module's children are the AutoencoderKL's own encoder / decoder / quant convs, so its
state dict has exactly diffusers AutoencoderKL names (`keymaps.image_vae_*` converts from the
reference checkpoint) and a plain AutoencoderKL state dict loads into it unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from diffusers import AutoencoderKL
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

from codi_studio.codi.autoencoders.configs import ImageVAEConfig


def build_autoencoder_kl(in_channels: int, out_channels: int, latent_channels: int,
                         block_out_channels: tuple[int, ...], layers_per_block: int,
                         norm_num_groups: int, sample_size: int, scaling_factor: float) -> AutoencoderKL:
    levels = len(block_out_channels)
    return AutoencoderKL(
        in_channels=in_channels,
        out_channels=out_channels,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=tuple(block_out_channels),
        layers_per_block=layers_per_block,
        latent_channels=latent_channels,
        norm_num_groups=norm_num_groups,
        sample_size=sample_size,
        scaling_factor=scaling_factor,
    )


def _fold_frames(x: torch.Tensor) -> tuple[torch.Tensor, int | None]:
    """(B,C,F,H,W) video -> (B*F,C,H,W) frames; images pass through."""
    if x.ndim == 5:
        b, c, f, h, w = x.shape
        return x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w), f
    if x.ndim == 4:
        return x, None
    raise ValueError(f"expected (B,C,H,W) images or (B,C,F,H,W) video, got shape {tuple(x.shape)}")


def _unfold_frames(x: torch.Tensor, frames: int | None) -> torch.Tensor:
    if frames is None:
        return x
    bf, c, h, w = x.shape
    return x.reshape(bf // frames, frames, c, h, w).permute(0, 2, 1, 3, 4)


class ImageVAE(nn.Module):
    def __init__(self, config: ImageVAEConfig | None = None) -> None:
        super().__init__()
        self.config = config or ImageVAEConfig.official()
        c = self.config
        kl = build_autoencoder_kl(c.in_channels, c.out_channels, c.latent_channels, c.block_out_channels,
                                  c.layers_per_block, c.norm_num_groups, c.sample_size, c.scaling_factor)
        self.encoder = kl.encoder
        self.decoder = kl.decoder
        self.quant_conv = kl.quant_conv
        self.post_quant_conv = kl.post_quant_conv

    @classmethod
    def from_config_dict(cls, data: dict[str, Any]) -> "ImageVAE":
        return cls(ImageVAEConfig.from_dict(data))

    @property
    def scaling_factor(self) -> float:
        return self.config.scaling_factor

    def posterior(self, x: torch.Tensor) -> DiagonalGaussianDistribution:
        """The unscaled posterior of (B,3,H,W) frames in [-1,1] (logvar clamped to [-30, 20])."""
        return DiagonalGaussianDistribution(self.quant_conv(self.encoder(x)))

    def encode(self, x: torch.Tensor, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Images (B,3,H,W) or video (B,3,F,H,W) in [-1,1] -> scaled latent (B,4,H/8,W/8) / (B,4,F,H/8,W/8).

        sample=False returns the posterior mean (deterministic); sample=True draws from it
        (CoDi's autokl_encode samples).
        """
        frames_in, frames = _fold_frames(x)
        post = self.posterior(frames_in)
        z = post.sample(generator=generator) if sample else post.mean
        return _unfold_frames(z * self.config.scaling_factor, frames)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Scaled latent (B,4,h,w) or (B,4,F,h,w) -> images (B,3,8h,8w) / video (B,3,F,8h,8w), about [-1,1].

        Not clamped (the reference clamps only when converting to pixels).
        """
        z, frames = _fold_frames(latent)
        x = self.decoder(self.post_quant_conv(z / self.config.scaling_factor))
        return _unfold_frames(x, frames)

    def to_diffusers(self) -> AutoencoderKL:
        """A standalone diffusers AutoencoderKL holding copies of these weights."""
        c = self.config
        kl = build_autoencoder_kl(c.in_channels, c.out_channels, c.latent_channels, c.block_out_channels,
                                  c.layers_per_block, c.norm_num_groups, c.sample_size, c.scaling_factor)
        kl.load_state_dict(self.state_dict())
        return kl


def build_image_vae(config: dict[str, Any]) -> ImageVAE:
    """Component factory (model folder `type: image_vae`)."""
    return ImageVAE.from_config_dict(config)
