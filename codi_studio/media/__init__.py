"""Media values and file I/O (no torch, no Qt).

Reading: `read_media` (content decides), or `read_image`, `read_audio`, `read_video`, `read_text`.
Writing: `write_media`, or `write_png` (with metadata), `write_wav`, `write_mp4`, `write_text`.
Facts: `probe` -> MediaInfo. Helpers: resize/crop, resample/mono, thumbnails, waveform peaks.
Every failure is a `MediaError(path, reason)`.
"""

from codi_studio.media.audio import convert_audio, read_audio, resample_audio, to_mono, write_wav
from codi_studio.media.dispatch import modality_of, read_media, write_media
from codi_studio.media.images import png_bytes, read_image, read_png_metadata, write_png
from codi_studio.media.limits import DEFAULT_MAX_DURATION, MAX_PIXELS
from codi_studio.media.probe import MediaInfo, probe
from codi_studio.media.text import read_text, write_text
from codi_studio.media.transforms import center_crop, resize_and_crop, resize_image, thumbnail_png, waveform_peaks
from codi_studio.media.values import Audio, Image, MediaError, MediaValue, Modality, Text, Video
from codi_studio.media.video import read_video, write_mp4

__all__ = [
    "DEFAULT_MAX_DURATION",
    "MAX_PIXELS",
    "Audio",
    "Image",
    "MediaError",
    "MediaInfo",
    "MediaValue",
    "Modality",
    "Text",
    "Video",
    "center_crop",
    "convert_audio",
    "modality_of",
    "png_bytes",
    "probe",
    "read_audio",
    "read_image",
    "read_media",
    "read_png_metadata",
    "read_text",
    "read_video",
    "resample_audio",
    "resize_and_crop",
    "resize_image",
    "thumbnail_png",
    "to_mono",
    "waveform_peaks",
    "write_media",
    "write_mp4",
    "write_png",
    "write_text",
    "write_wav",
]
