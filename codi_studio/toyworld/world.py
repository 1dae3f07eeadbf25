"""The procedural toy world of toyworld.md, version 1.

Every sample describes one `Scene` (shape, color, motion, backdrop) in four
modalities: a 64x64 still with a motion trail, an 8-frame video, a 1 s tone and
a caption. Drawing is vectorised over a batch with numpy (signed-distance
anti-aliasing, harmonic recurrences for audio) because training draws hundreds
of thousands of samples; the single-sample functions are the batch of one.

Placement: the object in the still is the video's first frame, so the spec's
"wholly inside with a 2 px margin" is kept by every drawn copy: the trail 10 px
behind and the video's 21 px path ahead all stay inside the margin.

Only numpy and codi_studio.media here: no torch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from codi_studio.media.values import Audio, Image, Text, Video

WORLD_VERSION = 1

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow")
MOTIONS: tuple[str, ...] = ("left", "right", "up", "down")
BACKDROPS: tuple[str, ...] = ("day", "night")
ATTRIBUTES: tuple[str, ...] = ("shape", "color", "motion", "backdrop")
VALUES: dict[str, tuple[str, ...]] = {
    "shape": SHAPES,
    "color": COLORS,
    "motion": MOTIONS,
    "backdrop": BACKDROPS,
}

COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 50, 50),
    "green": (50, 180, 70),
    "blue": (50, 90, 230),
    "yellow": (235, 205, 50),
}
BACKDROP_RGB: dict[str, tuple[int, int, int]] = {"day": (190, 215, 245), "night": (25, 25, 50)}
COLOR_JITTER = 10  # each channel moves by a uniform integer in [-10, 10]

IMAGE_SIZE = 64
MARGIN = 2.0
RADIUS_RANGE = (9.0, 13.0)
TRIANGLE_SCALE = 1.2  # triangle circumscribed radius = 1.2 r
TRAIL = ((10.0, 0.15), (5.0, 0.35))  # (px behind, opacity), farthest drawn first

VIDEO_FRAMES = 8
VIDEO_FPS = 8.0
VIDEO_STEP = 3.0  # px per frame

SAMPLE_RATE = 16_000
AUDIO_SECONDS = 1.0
AUDIO_SAMPLES = int(SAMPLE_RATE * AUDIO_SECONDS)
FUNDAMENTAL_HZ: dict[str, float] = {"red": 220.0, "green": 330.0, "blue": 440.0, "yellow": 660.0}
GLIDE = (0.8, 1.25)  # up: from 0.8 f to 1.25 f; down: the reverse
LOUDNESS_RAMP = (1.0, 0.2)  # left: 1.0 -> 0.2; right: the reverse
PEAK = 0.5
FADE_SECONDS = 0.010
PITCH_JITTER = (0.98, 1.02)
N_HARMONICS = 7

# harmonic amplitudes 1..7 per timbre
HARMONICS: dict[str, np.ndarray] = {
    "circle": np.array([1, 0, 0, 0, 0, 0, 0], dtype=np.float64),
    "square": np.array([1, 0, 1 / 3, 0, 1 / 5, 0, 1 / 7], dtype=np.float64),
    "triangle": np.array([1 / n for n in range(1, 8)], dtype=np.float64),
}

# unit direction in image coordinates (x right, y down)
DIRECTION: dict[str, tuple[float, float]] = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}

ARTICLES = ("a", "one")
VERBS = ("moving", "moves", "going", "drifting")
DIRECTION_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("left", "to the left"),
    "right": ("right", "to the right"),
    "up": ("up", "upward"),
    "down": ("down", "downward"),
}
BACKDROP_PHRASES: dict[str, tuple[str, ...]] = {
    "day": ("in daylight", "on a sunny day"),
    "night": ("at night", "in the dark"),
}


@dataclass(frozen=True, order=True)
class Scene:
    shape: str
    color: str
    motion: str
    backdrop: str

    def __post_init__(self) -> None:
        for attribute in ATTRIBUTES:
            value = getattr(self, attribute)
            if value not in VALUES[attribute]:
                valid = ", ".join(VALUES[attribute])
                raise ValueError(f"unknown {attribute} {value!r} (expected one of: {valid})")

    def attributes(self) -> dict[str, str]:
        return {a: getattr(self, a) for a in ATTRIBUTES}

    def __str__(self) -> str:
        return f"{self.color} {self.shape} moving {self.motion} ({self.backdrop})"


SCENES: tuple[Scene, ...] = tuple(Scene(*combo) for combo in itertools.product(SHAPES, COLORS, MOTIONS, BACKDROPS))

HELD_OUT: frozenset[Scene] = frozenset(
    [Scene("triangle", "yellow", m, "night") for m in MOTIONS]
    + [Scene("square", "green", "down", b) for b in BACKDROPS]
    + [Scene("circle", "red", "right", b) for b in BACKDROPS]
)
TRAIN_SCENES: tuple[Scene, ...] = tuple(s for s in SCENES if s not in HELD_OUT)
HELD_OUT_SCENES: tuple[Scene, ...] = tuple(s for s in SCENES if s in HELD_OUT)


# ---------------------------------------------------------------------------
# the per-sample random draw shared by every modality of one sample


@dataclass(frozen=True)
class Jitter:
    """All random choices of a batch of samples, one row per sample.

    Image and video of one sample share object/backdrop colour, size and start
    position; the audio uses the pitch factor; the caption its word choices.
    """

    object_rgb: np.ndarray  # (B, 3) int
    backdrop_rgb: np.ndarray  # (B, 3) int
    radius: np.ndarray  # (B,) float, r in [9, 13]
    center: np.ndarray  # (B, 2) float (x, y): the object in the still = first video frame
    pitch: np.ndarray  # (B,) float factor in [0.98, 1.02]
    caption_choices: np.ndarray  # (B, 4) int: article, verb, direction phrase, backdrop phrase

    def __len__(self) -> int:
        return int(self.radius.shape[0])

    def rows(self, rows: slice) -> "Jitter":
        return Jitter(
            object_rgb=self.object_rgb[rows],
            backdrop_rgb=self.backdrop_rgb[rows],
            radius=self.radius[rows],
            center=self.center[rows],
            pitch=self.pitch[rows],
            caption_choices=self.caption_choices[rows],
        )


def shape_extent(shape: str, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distances from the center to the shape's left, right, top and bottom edges."""
    r = np.asarray(radius, dtype=np.float64)
    if shape in ("circle", "square"):
        return r, r, r, r
    big = TRIANGLE_SCALE * r
    half_width = big * np.sqrt(3.0) / 2.0
    return half_width, half_width, big, big / 2.0


def _center_range(shape: str, motion: str, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Allowed first-frame centers: the trail behind and the whole video path stay inside the margin."""
    left, right, top, bottom = shape_extent(shape, radius)
    x_lo, x_hi = MARGIN + left, IMAGE_SIZE - MARGIN - right
    y_lo, y_hi = MARGIN + top, IMAGE_SIZE - MARGIN - bottom
    dx, dy = DIRECTION[motion]
    travel = VIDEO_STEP * (VIDEO_FRAMES - 1)
    behind = max(offset for offset, _ in TRAIL)
    # moving +: the trail sits at -behind and the path ends at +travel
    if dx > 0:
        x_lo, x_hi = x_lo + behind, x_hi - travel
    elif dx < 0:
        x_lo, x_hi = x_lo + travel, x_hi - behind
    if dy > 0:
        y_lo, y_hi = y_lo + behind, y_hi - travel
    elif dy < 0:
        y_lo, y_hi = y_lo + travel, y_hi - behind
    return x_lo, x_hi, y_lo, y_hi


def draw_jitter(scenes: Sequence[Scene], rng: np.random.Generator) -> Jitter:
    """One random draw per scene, vectorised."""
    n = len(scenes)
    object_rgb = np.array([COLOR_RGB[s.color] for s in scenes], dtype=np.int64).reshape(n, 3)
    backdrop_rgb = np.array([BACKDROP_RGB[s.backdrop] for s in scenes], dtype=np.int64).reshape(n, 3)
    object_rgb = object_rgb + rng.integers(-COLOR_JITTER, COLOR_JITTER + 1, size=(n, 3))
    backdrop_rgb = backdrop_rgb + rng.integers(-COLOR_JITTER, COLOR_JITTER + 1, size=(n, 3))
    radius = rng.uniform(*RADIUS_RANGE, size=n)
    u = rng.uniform(0.0, 1.0, size=(n, 2))
    center = np.empty((n, 2), dtype=np.float64)
    for i, scene in enumerate(scenes):
        x_lo, x_hi, y_lo, y_hi = _center_range(scene.shape, scene.motion, radius[i])
        center[i, 0] = x_lo + u[i, 0] * (x_hi - x_lo)
        center[i, 1] = y_lo + u[i, 1] * (y_hi - y_lo)
    pitch = rng.uniform(*PITCH_JITTER, size=n)
    caption_choices = rng.integers(0, [len(ARTICLES), len(VERBS), 2, 2], size=(n, 4))
    return Jitter(
        object_rgb=np.clip(object_rgb, 0, 255),
        backdrop_rgb=np.clip(backdrop_rgb, 0, 255),
        radius=radius,
        center=center,
        pitch=pitch,
        caption_choices=caption_choices,
    )


# ---------------------------------------------------------------------------
# drawing


_PIXEL_CENTERS = np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5


def coverage(shapes: Sequence[str], centers: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage masks (B, 64, 64) in [0, 1] from signed distances at pixel centers.

    Coverage is 0.5 - signed distance, clipped: a one-pixel soft edge.
    """
    n = len(shapes)
    centers = np.asarray(centers, dtype=np.float32).reshape(n, 2)
    r = np.asarray(radius, dtype=np.float32).reshape(n, 1, 1)
    dx = _PIXEL_CENTERS[None, None, :] - centers[:, 0, None, None]  # (B, 1, W)
    dy = _PIXEL_CENTERS[None, :, None] - centers[:, 1, None, None]  # (B, H, 1)
    distance = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    kinds = np.array([SHAPES.index(s) for s in shapes])
    for kind, shape in enumerate(SHAPES):
        idx = np.nonzero(kinds == kind)[0]
        if idx.size == 0:
            continue
        x, y, rr = dx[idx], dy[idx], r[idx]
        if shape == "circle":
            distance[idx] = np.sqrt(x * x + y * y) - rr
        elif shape == "square":
            distance[idx] = np.maximum(np.abs(x), np.abs(y)) - rr
        else:
            big = TRIANGLE_SCALE * rr
            # equilateral, pointing up: base at y = big/2, sloped sides through the top vertex
            base = y - big / 2.0
            sides = (np.sqrt(3.0) * np.abs(x) - y) / 2.0 - big / 2.0
            distance[idx] = np.maximum(base, sides)
    return np.clip(0.5 - distance, 0.0, 1.0)


def _to_uint8(canvas: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def _directions(scenes: Sequence[Scene]) -> np.ndarray:
    return np.array([DIRECTION[s.motion] for s in scenes], dtype=np.float64).reshape(len(scenes), 2)


def _composite(backdrop_rgb: np.ndarray, object_rgb: np.ndarray, transmission: np.ndarray) -> np.ndarray:
    """Colour layers of one object colour over the backdrop, as uint8.

    Blending colour c at alpha a over canvas x gives c + (x - c)(1 - a); so any stack of
    same-coloured layers is c + (backdrop - c) * product of (1 - a): `transmission`.
    """
    extra_axes = (None,) * (transmission.ndim - 1)
    colour = object_rgb.astype(np.float32)[(slice(None),) + extra_axes]
    backdrop = backdrop_rgb.astype(np.float32)[(slice(None),) + extra_axes]
    canvas = colour + (backdrop - colour) * transmission[..., None]
    return _to_uint8(canvas)


def shift_masks(masks: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Masks (B, H, W) moved by whole pixels, zero-filled (the drawn objects never touch the border)."""
    out = np.zeros_like(masks)
    h, w = masks.shape[-2:]
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = masks[
        ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def _by_motion(scenes: Sequence[Scene]) -> list[tuple[tuple[int, int], np.ndarray]]:
    motions = np.array([MOTIONS.index(s.motion) for s in scenes])
    groups = []
    for k, motion in enumerate(MOTIONS):
        idx = np.nonzero(motions == k)[0]
        if idx.size:
            dx, dy = DIRECTION[motion]
            groups.append(((int(dx), int(dy)), idx))
    return groups


def draw_images(scenes: Sequence[Scene], jitter: Jitter) -> np.ndarray:
    """Stills (B, 64, 64, 3) uint8: backdrop, trail copies (farthest first), then the object."""
    masks = coverage([s.shape for s in scenes], jitter.center, jitter.radius)
    transmission = 1.0 - masks
    # trail offsets are whole pixels, so each copy is the object's own mask shifted back
    for (dx, dy), idx in _by_motion(scenes):
        for offset, opacity in TRAIL:
            step = int(offset)
            transmission[idx] *= 1.0 - opacity * shift_masks(masks[idx], -dx * step, -dy * step)
    return _composite(jitter.backdrop_rgb, jitter.object_rgb, transmission)


def draw_videos(scenes: Sequence[Scene], jitter: Jitter) -> np.ndarray:
    """Videos (B, 8, 64, 64, 3) uint8: the object moving 3 px per frame, no trail."""
    n = len(scenes)
    masks = coverage([s.shape for s in scenes], jitter.center, jitter.radius)
    frames = np.empty((n, VIDEO_FRAMES, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    step = int(VIDEO_STEP)  # whole pixels per frame: each frame is the first one shifted
    groups = _by_motion(scenes)
    for t in range(VIDEO_FRAMES):
        transmission = np.empty_like(masks)
        for (dx, dy), idx in groups:
            transmission[idx] = 1.0 - shift_masks(masks[idx], dx * step * t, dy * step * t)
        frames[:, t] = _composite(jitter.backdrop_rgb, jitter.object_rgb, transmission)
    return frames


_TIME = np.arange(AUDIO_SAMPLES, dtype=np.float64) / SAMPLE_RATE


def pitch_curve(motion: str, fundamental: float) -> tuple[float, float]:
    """(start frequency, end frequency) of the exponential glide; equal when the pitch is constant."""
    if motion == "up":
        return GLIDE[0] * fundamental, GLIDE[1] * fundamental
    if motion == "down":
        return GLIDE[1] * fundamental, GLIDE[0] * fundamental
    return fundamental, fundamental


def draw_audio(scenes: Sequence[Scene], jitter: Jitter) -> np.ndarray:
    """Tones (B, 16000) float32: harmonic timbre, glide or loudness ramp, peak 0.5, 10 ms fades."""
    n = len(scenes)
    out = np.empty((n, AUDIO_SAMPLES), dtype=np.float32)
    # a few rows at a time keeps the working arrays in cache
    for first in range(0, n, _AUDIO_CHUNK):
        rows = slice(first, min(n, first + _AUDIO_CHUNK))
        out[rows] = _tones(scenes[rows], jitter.pitch[rows])
    return out


_AUDIO_CHUNK = 16


def _tones(scenes: Sequence[Scene], pitch: np.ndarray) -> np.ndarray:
    n = len(scenes)
    t = _TIME[None, :]
    f0 = np.array([FUNDAMENTAL_HZ[s.color] for s in scenes]) * pitch
    glide = np.array([pitch_curve(s.motion, 1.0) for s in scenes]).reshape(n, 2)
    start = (f0 * glide[:, 0])[:, None]
    log_ratio = np.log(glide[:, 1] / glide[:, 0])[:, None]  # ln(end / start) over the 1 s clip
    # cycles = integral of start * exp(log_ratio * t) dt (the constant-pitch limit where log_ratio = 0)
    safe = np.where(log_ratio == 0.0, 1.0, log_ratio)
    integral = np.where(log_ratio == 0.0, t, np.expm1(log_ratio * t) / safe)
    cycles = start * integral
    phase = (2.0 * np.pi * (cycles - np.floor(cycles))).astype(np.float32)  # reduced before float32
    weights = np.stack([HARMONICS[s.shape] for s in scenes]).astype(np.float32)  # (B, 7)
    # sin(k phase) by the Chebyshev recurrence: one sin and one cos instead of seven sines
    current = np.sin(phase)
    wave = weights[:, 0:1] * current
    if np.any(weights[:, 1:]):
        two_cos = 2.0 * np.cos(phase)
        previous = np.zeros_like(phase)
        for k in range(1, N_HARMONICS):
            previous, current = current, two_cos * current - previous
            wave += weights[:, k : k + 1] * current
    loudness = np.ones((n, AUDIO_SAMPLES), dtype=np.float32)
    for i, scene in enumerate(scenes):
        if scene.motion == "left":
            loudness[i] = _RAMP_DOWN
        elif scene.motion == "right":
            loudness[i] = _RAMP_UP
    wave *= loudness
    wave *= PEAK / np.max(np.abs(wave), axis=1, keepdims=True)
    wave *= _FADE[None, :]
    return wave


_RAMP_DOWN = (LOUDNESS_RAMP[0] + (LOUDNESS_RAMP[1] - LOUDNESS_RAMP[0]) * _TIME).astype(np.float32)
_RAMP_UP = (LOUDNESS_RAMP[1] + (LOUDNESS_RAMP[0] - LOUDNESS_RAMP[1]) * _TIME).astype(np.float32)


def _fade() -> np.ndarray:
    n = int(round(FADE_SECONDS * SAMPLE_RATE))
    envelope = np.ones(AUDIO_SAMPLES, dtype=np.float32)
    ramp = np.arange(n, dtype=np.float32) / n
    envelope[:n] = ramp
    envelope[-n:] = ramp[::-1]
    return envelope


_FADE = _fade()


def captions(scenes: Sequence[Scene], jitter: Jitter) -> list[str]:
    out = []
    for scene, (article, verb, direction, backdrop) in zip(scenes, jitter.caption_choices):
        words = [
            ARTICLES[article],
            scene.color,
            scene.shape,
            VERBS[verb],
            DIRECTION_PHRASES[scene.motion][direction],
            BACKDROP_PHRASES[scene.backdrop][backdrop],
        ]
        out.append(" ".join(words))
    return out


# ---------------------------------------------------------------------------
# public API

MODALITY_NAMES = ("image", "video", "audio", "text")


def batch(
    scenes: Sequence[Scene],
    rng: np.random.Generator,
    modalities: Iterable[str] = MODALITY_NAMES,
) -> dict[str, object]:
    """Draw one sample per scene, as numpy arrays for training.

    Returns a dict with the requested keys of "image" (B,64,64,3) uint8,
    "video" (B,8,64,64,3) uint8, "audio" (B,16000) float32, "text" list[str];
    plus "labels" (B,4) int indices into SHAPES, COLORS, MOTIONS, BACKDROPS.
    One jitter draw is shared by all modalities of a sample.
    """
    wanted = tuple(modalities)
    for name in wanted:
        if name not in MODALITY_NAMES:
            raise ValueError(f"unknown modality {name!r} (expected some of: {', '.join(MODALITY_NAMES)})")
    scenes = list(scenes)
    jitter = draw_jitter(scenes, rng)
    out: dict[str, object] = {"labels": scene_labels(scenes)}
    if "image" in wanted:
        out["image"] = _chunked(draw_images, scenes, jitter)
    if "video" in wanted:
        out["video"] = _chunked(draw_videos, scenes, jitter)
    if "audio" in wanted:
        out["audio"] = draw_audio(scenes, jitter)
    if "text" in wanted:
        out["text"] = captions(scenes, jitter)
    return out


_PICTURE_CHUNK = 32  # scenes drawn at once: keeps the float working arrays in cache


def _chunked(draw: Callable[[Sequence[Scene], Jitter], np.ndarray], scenes: Sequence[Scene], jitter: Jitter) -> np.ndarray:
    parts = [
        draw(scenes[i : i + _PICTURE_CHUNK], jitter.rows(slice(i, i + _PICTURE_CHUNK)))
        for i in range(0, len(scenes), _PICTURE_CHUNK)
    ]
    return np.concatenate(parts) if parts else draw(scenes, jitter)


def scene_labels(scenes: Sequence[Scene]) -> np.ndarray:
    return np.array(
        [[VALUES[a].index(getattr(s, a)) for a in ATTRIBUTES] for s in scenes], dtype=np.int64
    ).reshape(len(scenes), len(ATTRIBUTES))


def scenes_from_labels(labels: np.ndarray) -> list[Scene]:
    """The inverse of `scene_labels`: (B,4) value indices -> scenes."""
    return [Scene(**{a: VALUES[a][int(i)] for a, i in zip(ATTRIBUTES, row)}) for row in labels]


def random_scenes(n: int, rng: np.random.Generator, pool: Sequence[Scene] = TRAIN_SCENES) -> list[Scene]:
    """n scenes drawn uniformly (with replacement) from pool, by default the training scenes."""
    return [pool[i] for i in rng.integers(0, len(pool), size=n)]


@dataclass(frozen=True)
class Sample:
    scene: Scene
    image: Image
    video: Video
    audio: Audio
    text: Text


def sample(scene: Scene, rng: np.random.Generator) -> Sample:
    """All four modalities of one scene from one shared jitter draw."""
    drawn = batch([scene], rng)
    return Sample(
        scene=scene,
        image=Image(drawn["image"][0]),  # type: ignore[index]
        video=Video(drawn["video"][0], fps=VIDEO_FPS),  # type: ignore[index]
        audio=Audio(drawn["audio"][0], sample_rate=SAMPLE_RATE),  # type: ignore[index]
        text=Text(drawn["text"][0]),  # type: ignore[index]
    )


def render_image(scene: Scene, rng: np.random.Generator) -> Image:
    return Image(batch([scene], rng, ("image",))["image"][0])  # type: ignore[index]


def render_video(scene: Scene, rng: np.random.Generator) -> Video:
    return Video(batch([scene], rng, ("video",))["video"][0], fps=VIDEO_FPS)  # type: ignore[index]


def render_audio(scene: Scene, rng: np.random.Generator) -> Audio:
    return Audio(batch([scene], rng, ("audio",))["audio"][0], sample_rate=SAMPLE_RATE)  # type: ignore[index]


def render_caption(scene: Scene, rng: np.random.Generator) -> Text:
    return Text(batch([scene], rng, ("text",))["text"][0])  # type: ignore[index]


def parse_scene(text: str) -> Scene:
    """A scene from four words in any order, e.g. "red circle left night"."""
    words = text.replace(",", " ").lower().split()
    found: dict[str, str] = {}
    for word in words:
        for attribute, values in VALUES.items():
            if word in values:
                found[attribute] = word
    missing = [a for a in ATTRIBUTES if a not in found]
    if missing:
        raise ValueError(f"scene {text!r} names no {', '.join(missing)}")
    return Scene(**found)
