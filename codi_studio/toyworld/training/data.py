"""Training data drawn from the toy world: training scenes only, as torch tensors.

Held-out scenes (toyworld.md) never reach training: every draw goes through
`training_scenes`, which refuses a pool that contains one.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch

from codi_studio.toyworld import world


def training_scenes(pool: Sequence[world.Scene] = world.TRAIN_SCENES) -> tuple[world.Scene, ...]:
    leaked = [s for s in pool if s in world.HELD_OUT]
    if leaked:
        raise ValueError(f"held-out scenes in the training pool: {', '.join(map(str, leaked))}")
    return tuple(pool)


def draw(rng: np.random.Generator, n: int, modalities: Iterable[str]) -> dict[str, object]:
    """n samples of random training scenes, all requested modalities from one jitter draw each."""
    scenes = world.random_scenes(n, rng, training_scenes())
    return world.batch(scenes, rng, tuple(modalities))


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """(B,H,W,3) uint8 -> (B,3,H,W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def videos_to_tensor(videos: np.ndarray) -> torch.Tensor:
    """(B,F,H,W,3) uint8 -> (B,3,F,H,W) float in [-1, 1] (the UNet's video layout)."""
    return torch.from_numpy(np.ascontiguousarray(videos)).permute(0, 4, 1, 2, 3).float().div(127.5).sub(1.0)


def audio_to_tensor(audio: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))


def video_frames(videos: torch.Tensor) -> torch.Tensor:
    """(B,3,F,H,W) -> (B*F,3,H,W): frames folded into the batch, as the VAE and CLIP see them."""
    b, c, f, h, w = videos.shape
    return videos.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
