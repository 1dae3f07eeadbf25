"""Still pictures: read any common format into an RGB Image, write PNG with generation metadata."""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, PngImagePlugin, UnidentifiedImageError

from codi_studio.media.atomic import atomic_path
from codi_studio.media.guard import media_errors
from codi_studio.media.limits import check_pixels
from codi_studio.media.sniff import require_regular_file
from codi_studio.media.values import Image, MediaError

# What composited transparency sits on: white, as most image tools show it.
ALPHA_BACKGROUND = (255, 255, 255)


def _open(path: Path) -> PILImage.Image:
    """Open lazily (header only) and refuse bombs before any pixel is decoded."""
    require_regular_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            picture = PILImage.open(path)
    except FileNotFoundError:
        raise MediaError(path, "file not found") from None
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise MediaError(path, f"picture too large (decompression-bomb guard): {exc}") from None
    except UnidentifiedImageError:
        raise MediaError(path, "not a readable image (unknown or corrupt header)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(path, f"not a readable image: {exc}") from None
    check_pixels(path, picture.width, picture.height)
    return picture


def _high_bit_to_uint8(picture: PILImage.Image) -> np.ndarray:
    """16/32-bit integer and float greyscale scaled to 0..255, not clipped."""
    values = np.asarray(picture)
    if picture.mode == "F":
        top = 1.0 if float(np.nanmax(values, initial=0.0)) <= 1.0 else 255.0
        scaled = np.nan_to_num(values / top * 255.0)
    elif picture.mode.startswith("I;16") or (picture.mode == "I" and int(values.max(initial=0)) > 255):
        scaled = values.astype(np.float64) / 257.0  # 0..65535 -> 0..255
    else:
        scaled = values.astype(np.float64)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def pil_to_rgb_array(picture: PILImage.Image) -> np.ndarray:
    """Any Pillow mode to H x W x 3 uint8 RGB: alpha composited on white, high bit depth scaled."""
    mode = picture.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        grey = _high_bit_to_uint8(picture)
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in picture.info) or (
        mode in ("L", "RGB") and "transparency" in picture.info
    )
    if has_alpha:
        rgba = picture.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        picture = PILImage.alpha_composite(background, rgba)
    return np.asarray(picture.convert("RGB"), dtype=np.uint8)


def image_from_pil(picture: PILImage.Image) -> Image:
    return Image(pil_to_rgb_array(picture).copy())


@media_errors
def read_image(path: str | os.PathLike[str]) -> Image:
    """The first frame of a PNG/JPEG/WebP/BMP/GIF/TIFF as RGB, upright per its EXIF orientation."""
    p = Path(path)
    picture = _open(p)
    try:
        with picture, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged-but-readable files warn; we judge by the outcome
            picture.seek(0)
            picture.load()
            upright = ImageOps.exif_transpose(picture)
            return image_from_pil(upright)
    except MediaError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, struct.error) as exc:
        raise MediaError(p, f"corrupt or truncated image: {exc}") from None
    except MemoryError:
        raise MediaError(p, "not enough memory to decode the image") from None


@media_errors
def image_frame_count(path: str | os.PathLike[str]) -> int:
    """How many frames a picture file holds (animated GIF/WebP > 1)."""
    p = Path(path)
    with _open(p) as picture:
        try:
            return int(getattr(picture, "n_frames", 1))
        except (OSError, ValueError, EOFError, SyntaxError, IndexError, KeyError, struct.error) as exc:
            raise MediaError(p, f"corrupt or truncated image: {exc}") from None


@media_errors
def read_png_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The tEXt/iTXt/zTXt key-value chunks of a PNG (e.g. our "parameters")."""
    p = Path(path)
    with _open(p) as picture:
        if picture.format != "PNG":
            raise MediaError(p, f"not a PNG file (found {picture.format})")
        try:
            picture.load()  # chunks after the image data are read only by load()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise MediaError(p, f"corrupt or truncated PNG: {exc}") from None
        return {str(k): str(v) for k, v in getattr(picture, "text", {}).items()}


def _png_info(metadata: Mapping[str, str]) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    for key, value in metadata.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 79:
            raise ValueError(f"PNG text key must be 1-79 characters, got {key!r}")
        try:
            key.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"PNG text key must be Latin-1, got {key!r}") from None
        try:
            str(value).encode("latin-1")
            info.add_text(key, str(value))  # tEXt, what most readers show
        except UnicodeEncodeError:
            info.add_itxt(key, str(value))  # iTXt carries UTF-8
    return info


def png_bytes(image: Image, metadata: Mapping[str, str] | None = None, compress_level: int = 6) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(np.asarray(image.pixels), "RGB").save(
        buffer, format="PNG", pnginfo=_png_info(metadata or {}), compress_level=compress_level
    )
    return buffer.getvalue()


def write_png(path: str | os.PathLike[str], image: Image, metadata: Mapping[str, str] | None = None) -> Path:
    """Write an RGB PNG, with `metadata` as text chunks (tEXt, or iTXt when not Latin-1)."""
    target = Path(path)
    try:
        data = png_bytes(image, metadata)
    except ValueError as exc:
        raise MediaError(target, str(exc)) from None
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target
