"""Judged reconstructions: how much of a scene survives an autoencoder round trip.

A generated picture or caption can be no better than what its autoencoder can
decode, so each autoencoder stage records the fraction of each attribute the
world's judges still read in reconstructions of fresh training samples: the
ceiling of every later figure for that modality, and the first thing to look at
when a cell of the eval table is low.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from codi_studio.toyworld import world
from codi_studio.toyworld.judges import Verdict, judge_text
from codi_studio.toyworld.judges_image import judge_image_pixels

IMAGE_ATTRIBUTES = world.ATTRIBUTES
TEXT_ATTRIBUTES = world.ATTRIBUTES


def scenes_of(labels: np.ndarray) -> list[world.Scene]:
    return [world.Scene(**{a: world.VALUES[a][int(i)] for a, i in zip(world.ATTRIBUTES, row)}) for row in labels]


def judged_fractions(verdicts: Sequence[Verdict], scenes: Sequence[world.Scene],
                     attributes: Sequence[str]) -> dict[str, float]:
    """attribute -> fraction of verdicts that name the scene's value."""
    return {a: round(float(np.mean([v.get(a) == getattr(s, a) for v, s in zip(verdicts, scenes)])), 3)
            for a in attributes}


def image_reconstructions(pictures: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """(B,H,W,3) uint8 reconstructions of the scenes in `labels` -> judged fraction per attribute."""
    return judged_fractions([judge_image_pixels(p) for p in pictures], scenes_of(labels), IMAGE_ATTRIBUTES)


def text_reconstructions(captions: Sequence[str], labels: np.ndarray) -> dict[str, float]:
    return judged_fractions([judge_text(c) for c in captions], scenes_of(labels), TEXT_ATTRIBUTES)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B,3,H,W) in [-1,1] -> (B,H,W,3) uint8, as the model's decoder hands pictures to the media layer."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
