"""CoDi's conditioning encoders: CLIP text/image/video and CLAP audio, into one 768-d space."""

from .config import ClapEncoderConfig, ClipEncoderConfig
from .clip import ClipEncoder, build_clip_encoder

__all__ = ["ClipEncoder", "ClipEncoderConfig", "ClapEncoderConfig", "build_clip_encoder"]
