"""CoDi's conditioning encoders: CLIP text/image/video and CLAP audio, into one 768-d space."""

from .clap import ClapEncoder, build_clap_encoder
from .clip import ClipEncoder, build_clip_encoder
from .clip_preprocess import pixels_from_signed, preprocess_image, preprocess_video
from .config import ClapEncoderConfig, ClipEncoderConfig

__all__ = [
    "ClapEncoder", "ClapEncoderConfig", "ClipEncoder", "ClipEncoderConfig", "build_clap_encoder",
    "build_clip_encoder", "pixels_from_signed", "preprocess_image", "preprocess_video",
]
