"""Limits that keep hostile or oversized files from exhausting memory or time."""

from __future__ import annotations

# Decompression-bomb guard for images and for video frame sizes (64 megapixels).
MAX_PIXELS = 64_000_000

# How many seconds of audio or video a read takes by default; longer files are read up to this.
DEFAULT_MAX_DURATION = 600.0

# Decoded video frames held in memory at once (bytes); asking for more is an error, not an OOM.
MAX_VIDEO_BYTES = 4 * 1024**3

# Text files larger than this are refused: prompts and captions are small.
MAX_TEXT_BYTES = 16 * 1024**2


def check_pixels(path: object, width: int, height: int) -> None:
    """Raise MediaError when a picture of this size would be a decompression bomb."""
    from codi_studio.media.values import MediaError

    if width <= 0 or height <= 0:
        raise MediaError(path, f"invalid picture size {width}x{height}")
    if width * height > MAX_PIXELS:
        raise MediaError(
            path, f"picture is {width}x{height} = {width * height / 1e6:.0f} megapixels, over the {MAX_PIXELS / 1e6:.0f} MP limit"
        )
