"""Config dataclasses for the conditioning encoders, as plain data (to_dict/from_dict).

Official presets reproduce the reference CoDi encoders (configs/model/clip.yaml,
clap.yaml): CLIP ViT-L/14 with temporal attention in every vision layer, and the
CLAP HTSAT-large audio branch with a 768-d joint space. Tiny presets keep the same
structure at toy sizes for the toy CoDi and for tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

_C = TypeVar("_C")

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _from_dict(cls: type[_C], data: dict[str, Any]) -> _C:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {unknown}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


@dataclass(frozen=True)
class ClipEncoderConfig:
    """CLIP text + vision towers, their projections, and CoDi's temporal layers."""

    vocab_size: int = 49408
    max_text_length: int = 77
    text_hidden_size: int = 768
    text_intermediate_size: int = 3072
    text_layers: int = 12
    text_heads: int = 12
    vision_hidden_size: int = 1024
    vision_intermediate_size: int = 4096
    vision_layers: int = 24
    vision_heads: int = 16
    image_size: int = 224
    patch_size: int = 14
    projection_dim: int = 768
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-5
    # CoDi adds a temporal block to every vision layer; 30 = size of its (unused) frame embeddings.
    temporal_layers: bool = True
    temporal_max_frames: int = 30
    image_mean: tuple[float, float, float] = CLIP_MEAN
    image_std: tuple[float, float, float] = CLIP_STD

    def __post_init__(self) -> None:
        for name in ("text_hidden_size", "vision_hidden_size"):
            heads = self.text_heads if name.startswith("text") else self.vision_heads
            if getattr(self, name) % heads:
                raise ValueError(f"ClipEncoderConfig: {name}={getattr(self, name)} not divisible by {heads} heads")
        if self.image_size % self.patch_size:
            raise ValueError(
                f"ClipEncoderConfig: image_size {self.image_size} not a multiple of patch_size {self.patch_size}")

    @classmethod
    def official(cls) -> "ClipEncoderConfig":
        """openai/clip-vit-large-patch14 + CoDi temporal layers (the defaults)."""
        return cls()

    @classmethod
    def tiny(cls) -> "ClipEncoderConfig":
        return cls(vocab_size=64, max_text_length=16, text_hidden_size=32, text_intermediate_size=64, text_layers=2,
                   text_heads=2, vision_hidden_size=32, vision_intermediate_size=64, vision_layers=2, vision_heads=2,
                   image_size=32, patch_size=8, projection_dim=32, temporal_max_frames=8)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClipEncoderConfig":
        return _from_dict(cls, data)


@dataclass(frozen=True)
class ClapEncoderConfig:
    """CLAP audio branch (HTSAT Swin transformer), audio_transform and audio_projection.

    Front-end values are the reference's HTSAT audio_cfg (model_configs/HTSAT-large.json):
    waveforms arrive at `input_rate` (CoDi: 16 kHz), are resampled to `sample_rate`
    (48 kHz), cropped/repeat-padded to `clip_samples` (10 s), then turned into a
    `mel_bins`-band log-mel spectrogram (`window_size`/`hop_size`, `fmin`..`fmax`).
    """

    input_rate: int = 16000
    sample_rate: int = 48000
    clip_samples: int = 480000
    window_size: int = 1024
    hop_size: int = 480
    mel_bins: int = 64
    fmin: float = 50.0
    fmax: float = 14000.0
    # HTSAT geometry: spec_size x spec_size "image" made from the mel, patches of patch_size.
    spec_size: int = 256
    patch_size: int = 4
    patch_stride: int = 4
    embed_dim: int = 256
    depths: tuple[int, ...] = (2, 2, 12, 2)
    num_heads: tuple[int, ...] = (4, 8, 16, 32)
    window_size_attn: int = 8
    mlp_ratio: float = 4.0
    num_classes: int = 527
    joint_embed_dim: int = 768

    def __post_init__(self) -> None:
        if len(self.depths) != len(self.num_heads):
            raise ValueError("ClapEncoderConfig: depths and num_heads must have the same length")

    @property
    def final_dim(self) -> int:
        return self.embed_dim * 2 ** (len(self.depths) - 1)

    @classmethod
    def official(cls) -> "ClapEncoderConfig":
        """HTSAT-large as built by the reference (clap.yaml: amodel HTSAT-large, joint 768)."""
        return cls()

    @classmethod
    def tiny(cls) -> "ClapEncoderConfig":
        """The reference front-end and spectrogram geometry (10 s, 64 mels, 256x256) with a toy Swin."""
        return cls(embed_dim=8, depths=(2, 2), num_heads=(1, 2), num_classes=8, joint_embed_dim=32)

    @classmethod
    def toy(cls) -> "ClapEncoderConfig":
        """tiny() on 1 s clips, 32 mels, a 64x64 spectrogram image: ~12x faster, for toy-world training."""
        return cls(clip_samples=48000, mel_bins=32, spec_size=64, embed_dim=8, depths=(2, 2), num_heads=(1, 2),
                   num_classes=8, joint_embed_dim=32)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClapEncoderConfig":
        return _from_dict(cls, data)
