"""What a generation is asked to do and what it returns, as plain data.

These types travel between the UI thread, the worker, the CLI and the store,
so they hold media values and numbers only, never tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from codi_studio.codi.cancel import CancelToken, GenerationCancelled
from codi_studio.media.values import MediaValue, Modality

SAMPLERS = ("ddim", "dpmpp")

__all__ = ["CancelToken", "Condition", "GenerationCancelled", "GenerationRequest", "GenerationResult", "Progress",
           "ProgressCallback", "SAMPLERS"]


@dataclass(frozen=True)
class Condition:
    """One input of a generation: a media value and its mixing weight."""

    value: MediaValue
    weight: float = 1.0
    source: str | None = None  # file path or store version id it came from, for lineage


@dataclass(frozen=True)
class GenerationRequest:
    conditions: Sequence[Condition]
    outputs: Sequence[Modality]
    seed: int = 0
    steps: int = 50
    guidance: float = 7.5
    sampler: str = "ddim"
    n_samples: int = 1
    model: str | None = None  # None: the embedded default
    joint_mode: str | None = None  # None: the model's own ("cross" or "reference")

    def __post_init__(self) -> None:
        if not self.outputs:
            raise ValueError("at least one output modality is required")
        if len(set(self.outputs)) != len(self.outputs):
            raise ValueError("output modalities must not repeat")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r} (expected one of: {', '.join(SAMPLERS)})")
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if self.n_samples < 1:
            raise ValueError("n_samples must be at least 1")
        if self.joint_mode not in (None, "cross", "reference"):
            raise ValueError(f"unknown joint mode {self.joint_mode!r} (expected cross or reference)")
        for c in self.conditions:
            if c.weight < 0:
                raise ValueError("condition weights must not be negative")


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    # a cheap look at the current estimate, decoded to media (may be None)
    previews: Mapping[Modality, MediaValue] = field(default_factory=dict)


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class GenerationResult:
    # one mapping per sample: modality -> decoded media value
    samples: Sequence[Mapping[Modality, MediaValue]]
    model_id: str
    model_hash: str
    timings: Mapping[str, float] = field(default_factory=dict)
