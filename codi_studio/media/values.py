"""Typed, immutable media values: the one vocabulary every layer speaks.

No torch and no Qt here: these are plain numpy containers with their facts
(size, rate, duration) attached, checked once at construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Union

import numpy as np


class Modality(str, Enum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"

    @classmethod
    def parse(cls, name: str) -> "Modality":
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown modality {name!r} (expected one of: {valid})") from None


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Text:
    text: str

    modality = Modality.TEXT

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("Text.text must be a str")


@dataclass(frozen=True, eq=False)
class Image:
    """An RGB picture: pixels is H x W x 3 uint8."""

    pixels: np.ndarray

    modality = Modality.IMAGE

    def __post_init__(self) -> None:
        p = self.pixels
        if p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 3:
            raise ValueError(f"Image pixels must be HxWx3 uint8, got {p.shape} {p.dtype}")
        object.__setattr__(self, "pixels", _frozen(p))

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True, eq=False)
class Audio:
    """Sound: samples is (n_samples, channels) float32 in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    modality = Modality.AUDIO

    def __post_init__(self) -> None:
        s = self.samples
        if s.ndim == 1:
            s = s[:, None]
        if s.ndim != 2 or s.shape[1] < 1:
            raise ValueError(f"Audio samples must be (n, channels), got {s.shape}")
        if self.sample_rate <= 0:
            raise ValueError(f"Audio sample_rate must be positive, got {self.sample_rate}")
        object.__setattr__(self, "samples", _frozen(s.astype(np.float32, copy=False)))

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.n_samples / float(self.sample_rate)

    def mono(self) -> np.ndarray:
        """The channels averaged into one float32 vector."""
        return self.samples.mean(axis=1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Video:
    """Moving pictures: frames is T x H x W x 3 uint8, with an optional sound track."""

    frames: np.ndarray
    fps: float
    audio: Audio | None = field(default=None)

    modality = Modality.VIDEO

    def __post_init__(self) -> None:
        f = self.frames
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[3] != 3 or f.shape[0] < 1:
            raise ValueError(f"Video frames must be TxHxWx3 uint8 with T>=1, got {f.shape} {f.dtype}")
        if self.fps <= 0:
            raise ValueError(f"Video fps must be positive, got {self.fps}")
        object.__setattr__(self, "frames", _frozen(f))

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def duration(self) -> float:
        return self.n_frames / float(self.fps)


MediaValue = Union[Text, Image, Audio, Video]


class MediaError(Exception):
    """A media file could not be read or written; names the file and the reason."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
