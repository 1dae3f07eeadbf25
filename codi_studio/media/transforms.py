"""Small value-to-value helpers the store and the studio share: resize, crop, thumbnails, peaks."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage

from codi_studio.media.values import Audio, Image, MediaValue, Video


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"target size must be at least 1x1, got {width}x{height}")


def resize_image(image: Image, width: int, height: int) -> Image:
    """Scale to exactly width x height (aspect not kept); Lanczos, which also antialiases down."""
    _check_size(width, height)
    if (image.width, image.height) == (width, height):
        return image
    picture = PILImage.fromarray(np.asarray(image.pixels), "RGB").resize((width, height), PILImage.Resampling.LANCZOS)
    return Image(np.asarray(picture))


def center_crop(image: Image, width: int, height: int) -> Image:
    """The centred width x height window; the image must be at least that large."""
    _check_size(width, height)
    if width > image.width or height > image.height:
        raise ValueError(f"cannot crop {width}x{height} from a {image.width}x{image.height} image")
    top = (image.height - height) // 2
    left = (image.width - width) // 2
    return Image(image.pixels[top : top + height, left : left + width].copy())


def resize_and_crop(image: Image, width: int, height: int) -> Image:
    """Scale so the image covers width x height, then centre-crop (CoDi's input preprocessing)."""
    _check_size(width, height)
    scale = max(width / image.width, height / image.height)
    covered_w = max(width, round(image.width * scale))
    covered_h = max(height, round(image.height * scale))
    return center_crop(resize_image(image, covered_w, covered_h), width, height)


def thumbnail_png(value: MediaValue, max_side: int) -> bytes | None:
    """A PNG no larger than max_side on its longer side of an image or a video's first frame.

    Text and audio have no picture: None.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    if isinstance(value, Image):
        pixels = np.asarray(value.pixels)
    elif isinstance(value, Video):
        pixels = np.asarray(value.frames[0])
    else:
        return None
    picture = PILImage.fromarray(pixels, "RGB")
    picture.thumbnail((max_side, max_side), PILImage.Resampling.LANCZOS)  # keeps aspect, never enlarges
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def waveform_peaks(audio: Audio, n_bins: int) -> np.ndarray:
    """(n_bins, 2) float32 of (min, max) over all channels for equal slices of the sound.

    Slices shorter than one sample (more bins than samples) repeat the nearest sample;
    silence (no samples) is all zeros.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    samples = np.asarray(audio.samples)
    if samples.shape[0] == 0:
        return np.zeros((n_bins, 2), np.float32)
    low = samples.min(axis=1)
    high = samples.max(axis=1)
    n = samples.shape[0]
    starts = np.minimum((np.arange(n_bins) * n) // n_bins, n - 1)
    # reduceat over non-decreasing starts: an empty slice yields the sample at its start
    peaks = np.stack([np.minimum.reduceat(low, starts), np.maximum.reduceat(high, starts)], axis=1)
    return peaks.astype(np.float32)
