"""Judging toy-world stills and videos with plain signal processing.

The recipe, for a still or for every video frame:
- backdrop: the median colour of a 3 px border ring, nearest of the two backdrops;
- object colour: the median of the pixels that differ most from the backdrop,
  classified by hue (generated pictures shift brightness more than hue);
- opacity map: each pixel's projection onto the backdrop -> object colour line,
  so full object = 1, the 35 % and 15 % trail copies ~ 0.35 and 0.15;
- shape: the opaque core (largest connected blob) compared with ideal circle,
  square and upward triangle of the same area at the same centroid (best IoU);
- motion: in a still, where the half-transparent trail lies relative to the
  core (the object moves away from it); in a video, the core's centroid track.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from codi_studio.toyworld import world

Verdict = dict[str, "str | None"]

BORDER = 3  # px of the frame edge used to estimate the backdrop
MIN_CONTRAST = 40.0  # an object must differ this much (RGB distance) from the backdrop
CORE_OPACITY = 0.6  # opacity above which a pixel is the object itself, not its trail
MIN_CORE_PIXELS = 12
# plausibility: a picture that does not look like the toy world gets None, not a guess
MAX_BACKDROP_SPREAD = 60.0  # 75th percentile RGB distance of the border ring from its median
MAX_BACKDROP_DISTANCE = 80.0  # from the nearest backdrop of the palette (jitter alone reaches ~17)
MIN_SATURATION = 0.25  # the palette's colours have 0.65 and more
CORE_AREA = (50.0, 1600.0)  # px; the world's objects cover 150 .. 680
MIN_SHAPE_IOU = 0.6  # best template fit; clean ~0.9, blurred and noisy ~0.8
MIN_TRAIL_GAIN = 0.25  # a still without a visible trail shows no motion

_HUES = {name: colorsys.rgb_to_hsv(*(np.array(rgb) / 255.0))[0] * 360.0 for name, rgb in world.COLOR_RGB.items()}


def classify_backdrop(rgb: np.ndarray) -> str | None:
    """Nearest palette backdrop, or None when the colour is far from both."""
    distances = {name: float(np.linalg.norm(rgb - np.array(ref, dtype=float))) for name, ref in world.BACKDROP_RGB.items()}
    nearest = min(distances, key=distances.__getitem__)
    return nearest if distances[nearest] <= MAX_BACKDROP_DISTANCE else None


def backdrop_is_flat(pictures: np.ndarray, backdrop: np.ndarray) -> bool:
    ring = _ring(pictures.reshape((-1,) + pictures.shape[-3:]).astype(np.float64))
    return float(np.percentile(np.linalg.norm(ring - backdrop, axis=1), 75)) <= MAX_BACKDROP_SPREAD


def classify_color(rgb: np.ndarray) -> str | None:
    """Nearest palette colour by hue (circular distance); None for a greyish colour."""
    hue, saturation, _ = colorsys.rgb_to_hsv(*(np.clip(rgb, 0, 255) / 255.0))
    if saturation < MIN_SATURATION:
        return None
    hue *= 360.0

    def distance(name: str) -> float:
        d = abs(hue - _HUES[name]) % 360.0
        return min(d, 360.0 - d)

    return min(world.COLORS, key=distance)


def backdrop_colour(pictures: np.ndarray) -> np.ndarray:
    """Median colour of the border ring of one picture (H, W, 3) or of all frames (T, H, W, 3)."""
    return np.median(_ring(pictures.reshape((-1,) + pictures.shape[-3:]).astype(np.float64)), axis=0)


def _ring(pictures: np.ndarray) -> np.ndarray:
    """The border pixels of (T, H, W, 3) pictures as (N, 3)."""
    return np.concatenate(
        [
            pictures[:, :BORDER].reshape(-1, 3),
            pictures[:, -BORDER:].reshape(-1, 3),
            pictures[:, BORDER:-BORDER, :BORDER].reshape(-1, 3),
            pictures[:, BORDER:-BORDER, -BORDER:].reshape(-1, 3),
        ]
    )


def object_colour(pictures: np.ndarray, backdrop: np.ndarray) -> np.ndarray | None:
    """Median colour of the pixels most unlike the backdrop, or None if nothing stands out."""
    flat = pictures.reshape(-1, 3).astype(np.float64)
    distance = np.linalg.norm(flat - backdrop, axis=1)
    top = np.percentile(distance, 99.5)
    if top < MIN_CONTRAST:
        return None
    return np.median(flat[distance >= 0.8 * top], axis=0)


def opacity(picture: np.ndarray, backdrop: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Per-pixel position on the backdrop -> object colour line (0 backdrop, 1 object)."""
    axis = colour - backdrop
    return ((picture.astype(np.float64) - backdrop) @ axis) / float(axis @ axis)


@dataclass(frozen=True)
class Core:
    mask: np.ndarray  # (H, W) bool: the opaque object blob
    centroid: np.ndarray  # (x, y) in pixel coordinates (pixel centres at i + 0.5)
    area: float


def find_core(alpha: np.ndarray) -> Core | None:
    """The largest connected blob of opaque pixels, with small holes filled."""
    labels, count = ndimage.label(alpha > CORE_OPACITY)
    if count == 0:
        return None
    sizes = ndimage.sum_labels(np.ones_like(alpha), labels, index=np.arange(1, count + 1))
    mask = ndimage.binary_fill_holes(labels == (1 + int(np.argmax(sizes))))
    area = float(mask.sum())
    if area < MIN_CORE_PIXELS:
        return None
    ys, xs = np.nonzero(mask)
    return Core(mask=mask, centroid=np.array([xs.mean() + 0.5, ys.mean() + 0.5]), area=area)


def _radius_for_area(shape: str, area: float) -> float:
    if shape == "circle":
        return float(np.sqrt(area / np.pi))
    if shape == "square":
        return float(np.sqrt(area) / 2.0)
    return float(np.sqrt(area / (3.0 * np.sqrt(3.0) / 4.0)) / world.TRIANGLE_SCALE)


def shape_scores(core: Core) -> dict[str, float]:
    """IoU of the core with each ideal shape of equal area at the core's centroid."""
    scores = {}
    for shape in world.SHAPES:
        r = _radius_for_area(shape, core.area)
        template = world.coverage([shape], core.centroid[None, :], np.array([r]))[0] > 0.5
        union = np.logical_or(template, core.mask).sum()
        scores[shape] = float(np.logical_and(template, core.mask).sum() / max(union, 1))
    return scores


def classify_shape(core: Core) -> str | None:
    """Best-fitting shape, or None when the blob is implausibly sized or fits no shape well."""
    if not CORE_AREA[0] <= core.area <= CORE_AREA[1]:
        return None
    scores = shape_scores(core)
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= MIN_SHAPE_IOU else None


def direction_name(vector: np.ndarray) -> str:
    """The motion whose unit direction lies closest to a displacement (x right, y down)."""
    dx, dy = float(vector[0]), float(vector[1])
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def trail_motion(alpha: np.ndarray, core: Core) -> str | None:
    """The object moves away from its half-transparent trail.

    A matched filter: for each motion, the trail it would leave (the core shifted back
    by 5 px at 35 % and 10 px at 15 %, outside the core) is correlated with the
    observed opacity; the best fit wins. Summing over the whole predicted trail keeps
    pixel noise from deciding.
    """
    outside = ~ndimage.binary_dilation(core.mask, iterations=1)
    observed = np.clip(alpha, -0.5, 1.0) * outside
    core_mask = core.mask.astype(np.float64)[None]
    fits: dict[str, tuple[float, float]] = {}  # motion -> (normalised correlation, gain)
    for motion, (dx, dy) in world.DIRECTION.items():
        transmission = np.ones_like(alpha)
        for offset, strength in world.TRAIL:
            step = int(offset)
            behind = world.shift_masks(core_mask, -int(dx) * step, -int(dy) * step)[0]
            transmission *= 1.0 - strength * behind
        predicted = (1.0 - transmission) * outside
        energy = float((predicted**2).sum())
        if energy > 0.0:
            match = float((observed * predicted).sum())
            # the gain is the least-squares scale of the predicted trail: 1 for the spec's trail
            fits[motion] = (match / np.sqrt(energy), match / energy)
    if not fits:
        return None
    best = max(fits, key=lambda m: fits[m][0])
    return best if fits[best][1] >= MIN_TRAIL_GAIN else None


def _scene_start(pictures: np.ndarray) -> tuple[Verdict, np.ndarray | None, np.ndarray | None]:
    """Backdrop and object colour of a still or all frames; colours None when it is not a toy-world picture."""
    verdict: Verdict = {"shape": None, "color": None, "motion": None, "backdrop": None}
    backdrop = backdrop_colour(pictures)
    if not backdrop_is_flat(pictures, backdrop):
        return verdict, None, None
    verdict["backdrop"] = classify_backdrop(backdrop)
    colour = object_colour(pictures, backdrop)
    if verdict["backdrop"] is None or colour is None:
        return verdict, None, None
    verdict["color"] = classify_color(colour)
    return verdict, backdrop, colour


def judge_image_pixels(pixels: np.ndarray) -> Verdict:
    verdict, backdrop, colour = _scene_start(pixels)
    if backdrop is None or colour is None:
        return verdict
    alpha = opacity(pixels, backdrop, colour)
    core = find_core(alpha)
    if core is None:
        return verdict
    verdict["shape"] = classify_shape(core)
    if verdict["shape"] is not None:  # the trail is read against a credible object
        verdict["motion"] = trail_motion(alpha, core)
    return verdict


def judge_video_frames(frames: np.ndarray) -> Verdict:
    verdict, backdrop, colour = _scene_start(frames)
    if backdrop is None or colour is None:
        return verdict
    cores = [find_core(opacity(frame, backdrop, colour)) for frame in frames]
    # frames whose blob is a credible object; at least half the clip must show one
    found = [(t, core) for t, core in enumerate(cores) if core is not None and classify_shape(core) is not None]
    if 2 * len(found) < len(frames):
        return verdict
    totals = dict.fromkeys(world.SHAPES, 0.0)
    for _, core in found:
        for shape, score in shape_scores(core).items():
            totals[shape] += score
    verdict["shape"] = max(totals, key=totals.__getitem__)
    if len(found) >= 2:
        times = np.array([t for t, _ in found], dtype=np.float64)
        track = np.stack([core.centroid for _, core in found])
        # least-squares velocity of the centroid track, px per frame
        centred = times - times.mean()
        velocity = (centred[:, None] * (track - track.mean(axis=0))).sum(axis=0) / (centred @ centred)
        if np.abs(velocity).max() > 0.3:
            verdict["motion"] = direction_name(velocity)
    return verdict
