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

from codi_studio.toyworld import judges, world
from codi_studio.toyworld.judges import Verdict
from codi_studio.toyworld.judges_image import judge_image_pixels


def judged_fractions(verdicts: Sequence[Verdict], labels: np.ndarray) -> dict[str, float]:
    """attribute -> fraction of verdicts that name the value of the scene in `labels` (the eval's scoring)."""
    scores = [judges.score(v, s, world.ATTRIBUTES) for v, s in zip(verdicts, world.scenes_from_labels(labels))]
    return {a: round(float(np.mean([s[a] for s in scores])), 3) for a in world.ATTRIBUTES}


def image_reconstructions(pictures: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """(B,H,W,3) uint8 reconstructions of the scenes in `labels` -> judged fraction per attribute."""
    return judged_fractions([judge_image_pixels(p) for p in pictures], labels)


def text_reconstructions(captions: Sequence[str], labels: np.ndarray) -> dict[str, float]:
    return judged_fractions([judges.judge_text(c) for c in captions], labels)

