"""CoDi's CLAP conditioner: audio into the shared 768-d space.

Reference (core/models/encoders/clap.py CLAPAudioEmbeddingClassifierFreev2, embed_mode
"audio"; open_clip/model.py CLAP.get_audio_embedding): 16 kHz waveform -> front-end
(see audio_frontend.py) -> HTSAT 'embedding' -> audio_projection (Linear, ReLU, Linear)
-> L2 normalise -> (B, 1, joint_embed_dim). `audio_transform` (an MLP the reference
builds but does not use for the embedding) is kept only so the checkpoint loads 1:1.
CoDi's unconditional audio input is an all-zero waveform.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from .audio_frontend import AudioFrontEnd
from .config import ClapEncoderConfig
from .htsat import Htsat


class ClapEncoder(nn.Module):
    def __init__(self, config: ClapEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.frontend = AudioFrontEnd(config)  # no parameters; derived from the config
        self.htsat = Htsat(config)
        d = config.joint_embed_dim
        self.audio_transform = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Dropout(0.1), nn.Linear(d, d))
        self.audio_projection = nn.Sequential(nn.Linear(config.final_dim, d), nn.ReLU(), nn.Linear(d, d))

    @property
    def device(self) -> torch.device:
        return self.htsat.norm.weight.device

    def embed_log_mel(self, log_mel: torch.Tensor) -> torch.Tensor:
        """(B, frames, mel_bins) log-mel -> (B, 1, joint_embed_dim)."""
        emb = self.audio_projection(self.htsat(log_mel.to(self.device, self.htsat.norm.weight.dtype)))
        return F.normalize(emb, dim=-1).unsqueeze(1)

    def encode_audio(self, wave: torch.Tensor, crop_offset: int = 0) -> torch.Tensor:
        """(B, T) float waveform at config.input_rate (16 kHz) -> (B, 1, joint_embed_dim).

        Clips longer than clip_samples (after resampling) are cropped from `crop_offset`
        (48 kHz samples); the reference picks that offset at random.
        """
        if wave.ndim != 2 or not wave.is_floating_point():
            raise ValueError(
                f"encode_audio expects a float (B, T) waveform batch, got {tuple(wave.shape)} {wave.dtype}")
        return self.embed_log_mel(self.frontend(wave.to(self.device), crop_offset))


def build_clap_encoder(config: dict[str, Any]) -> ClapEncoder:
    """Component factory: config dict (ClapEncoderConfig.to_dict()) -> ClapEncoder."""
    return ClapEncoder(ClapEncoderConfig.from_dict(config))
