"""The training recipe as data: network sizes, step counts, learning rates.

`ToyRecipe.toy()` builds the embedded default model (models/toy-v1) in about 75
minutes on two CPU cores (measured: one fresh run, `--jobs 2`; two stages at a time, one thread
each, two for the bottleneck stages; step counts set from measured seconds per step);
`ToyRecipe.micro()` is the same recipe at a size that runs
in seconds, for tests. `scaled(x)` multiplies every step count (the CLI's
`--minutes-scale`), leaving everything else alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToyRecipe:
    name: str = "toy"
    # shared conditioning space (CLIP/CLAP projection size = UNet context size)
    embed_dim: int = 64
    # image/video-frame KL-VAE (diffusers AutoencoderKL): 64x64 -> 8x8x8 (f8: the video UNet's cost is
    # proportional to latent positions, and 8 frames of 16x16 made sampling too slow for a CPU)
    vae_norm_groups: int = 8
    image_vae_channels: tuple[int, ...] = (16, 32, 32, 32)
    image_latent_channels: int = 8
    image_vae_steps: int = 4000
    image_vae_batch: int = 8
    image_vae_lr: float = 2e-3
    # audio mel VAE: (1, T, 64 mels) -> 8 x T/4 x 16
    audio_vae_channels: tuple[int, ...] = (8, 16, 32)
    audio_vae_steps: int = 2500
    audio_vae_batch: int = 8
    audio_vae_lr: float = 2e-3
    # Optimus text VAE (tiny BERT + tiny GPT-2)
    text_latent_dim: int = 32
    text_hidden: int = 64
    text_layers: int = 2
    text_vae_steps: int = 8000
    text_vae_batch: int = 48
    text_vae_lr: float = 2e-3
    text_vae_beta: float = 0.02
    # contrastive alignment
    clip_hidden: int = 64
    clip_layers: int = 2
    clip_patch: int = 8
    clip_steps: int = 4800
    clip_batch: int = 32
    clip_lr: float = 1e-3
    clap_hidden: int = 64
    clap_steps: int = 2400
    clap_batch: int = 32
    clap_lr: float = 1e-3
    # cached, pre-encoded training set for the diffusers
    cache_per_scene: int = 16
    # diffusers
    unet_channels: int = 64
    image_unet_steps: int = 5000
    audio_unet_steps: int = 5200
    text_unet_steps: int = 10000
    unet_batch: int = 32
    # a video costs 8 pictures: far fewer videos than stills per unet_image step. unet_image is the
    # longest stage on the critical path; unet_audio and unet_text share the other core beside it
    unet_video_batch: int = 6
    unet_lr: float = 1.5e-3
    condition_dropout: float = 0.1
    ema_decay: float = 0.999
    min_snr_gamma: float = 5.0
    prediction_type: str = "v_prediction"
    # joint generation (connectors only). The connectors matter at high noise, where joint outputs
    # settle what no input fixes: timesteps from joint_min_timestep up, and no min-SNR weighting
    # (0; its v-target weights are ~SNR there, 0.005 at t=999)
    joint_steps: int = 1200
    joint_batch: int = 16
    joint_lr: float = 3e-3
    joint_min_timestep: int = 600
    joint_min_snr_gamma: float = 0.0
    # contrastive alignment of the environment vectors of paired outputs (0 = off)
    joint_align_weight: float = 1.0
    joint_align_temperature: float = 0.1

    STEP_FIELDS = ("image_vae_steps", "audio_vae_steps", "text_vae_steps", "clip_steps", "clap_steps",
                   "image_unet_steps", "audio_unet_steps", "text_unet_steps", "joint_steps")

    @classmethod
    def toy(cls) -> "ToyRecipe":
        return cls()

    @classmethod
    def micro(cls) -> "ToyRecipe":
        """Two steps per stage at the smallest sizes the architecture allows: for tests."""
        steps = {f: 2 for f in cls.STEP_FIELDS}
        return cls(name="micro", embed_dim=32, image_vae_channels=(8, 8, 8, 8), audio_vae_channels=(8, 8, 8),
                   image_vae_batch=2, audio_vae_batch=2, text_latent_dim=8, text_hidden=32, text_layers=1,
                   text_vae_batch=4, clip_hidden=32, clip_layers=1, clip_batch=4, clap_hidden=32, clap_batch=4,
                   cache_per_scene=1, unet_channels=64, unet_batch=2, unet_video_batch=1, joint_batch=2, **steps)

    def scaled(self, factor: float) -> "ToyRecipe":
        if factor <= 0:
            raise ValueError(f"minutes scale must be positive, got {factor}")
        changes = {f: max(1, round(getattr(self, f) * factor)) for f in self.STEP_FIELDS}
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}


PRESETS = {"toy": ToyRecipe.toy, "micro": ToyRecipe.micro}
