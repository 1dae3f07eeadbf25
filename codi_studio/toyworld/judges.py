"""Plain signal-processing judges for toy-world media (no learning).

`judge(value)` reads any media value and returns attribute -> value for the
attributes its modality carries (toyworld.md "What each modality carries"),
with None where it cannot tell. Image and video live in judges_image, audio in
judges_audio; text is parsed here.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np

from codi_studio.media.transforms import resize_and_crop
from codi_studio.media.values import Audio, Image, MediaValue, Modality, Text, Video
from codi_studio.toyworld import judges_audio, judges_image, world

Verdict = dict[str, "str | None"]

CARRIES: Mapping[Modality, tuple[str, ...]] = {
    Modality.TEXT: world.ATTRIBUTES,
    Modality.IMAGE: world.ATTRIBUTES,
    Modality.VIDEO: world.ATTRIBUTES,
    Modality.AUDIO: ("shape", "color", "motion"),
}

# every word the caption grammar (and plain English) uses for each value
_WORDS: dict[str, dict[str, str]] = {
    "shape": {"circle": "circle", "square": "square", "triangle": "triangle"},
    "color": {c: c for c in world.COLORS},
    "motion": {
        "left": "left",
        "leftward": "left",
        "leftwards": "left",
        "right": "right",
        "rightward": "right",
        "rightwards": "right",
        "up": "up",
        "upward": "up",
        "upwards": "up",
        "down": "down",
        "downward": "down",
        "downwards": "down",
    },
    "backdrop": {"day": "day", "daylight": "day", "sunny": "day", "night": "night", "dark": "night"},
}


def judge_text(text: str) -> Verdict:
    """Each attribute named by the caption's words; None if absent or contradictory."""
    words = re.findall(r"[a-z]+", text.lower())
    verdict: Verdict = {}
    for attribute, vocabulary in _WORDS.items():
        named = {vocabulary[w] for w in words if w in vocabulary}
        verdict[attribute] = named.pop() if len(named) == 1 else None
    return verdict


def _world_size(image: Image) -> np.ndarray:
    """Pixels at the world's 64 x 64 (a model may generate at another size): geometry is judged there."""
    return resize_and_crop(image, world.IMAGE_SIZE, world.IMAGE_SIZE).pixels


def judge_image(image: Image) -> Verdict:
    return judges_image.judge_image_pixels(_world_size(image))


def judge_video(video: Video) -> Verdict:
    frames = video.frames
    if frames.shape[1:3] != (world.IMAGE_SIZE, world.IMAGE_SIZE):
        frames = np.stack([_world_size(Image(frame)) for frame in frames])
    return judges_image.judge_video_frames(frames)


def judge_audio(audio: Audio) -> Verdict:
    return judges_audio.judge_audio_signal(audio.mono(), audio.sample_rate)


def judge(value: MediaValue) -> Verdict:
    """Dispatch on the value's modality."""
    if isinstance(value, Text):
        return judge_text(value.text)
    if isinstance(value, Image):
        return judge_image(value)
    if isinstance(value, Video):
        return judge_video(value)
    if isinstance(value, Audio):
        return judge_audio(value)
    raise TypeError(f"cannot judge a {type(value).__name__}: expected Text, Image, Audio or Video")


def score(verdict: Mapping[str, "str | None"], scene: world.Scene, attributes: tuple[str, ...]) -> dict[str, bool]:
    """attribute -> whether the verdict matches the scene (None counts as wrong)."""
    return {a: verdict.get(a) == getattr(scene, a) for a in attributes}
