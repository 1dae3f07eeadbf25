"""Media values and file I/O (no torch, no Qt)."""

from codi_studio.media.values import Audio, Image, MediaError, MediaValue, Modality, Text, Video

__all__ = ["Audio", "Image", "MediaError", "MediaValue", "Modality", "Text", "Video"]
