"""Configurations of CoDi's diffusion networks, as plain data.

Every network is built from one of these dataclasses; nothing is configured by
editing code. ``to_dict``/``from_dict`` give JSON-safe dicts (lists, not tuples),
used by the model folder's ``config.json``. ``from_reference_args`` reads the
argument names of the reference's YAML (``configs/model/openai_unet.yaml``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

JOINT_MODES: tuple[str, ...] = ("reference", "cross")

# GroupNorm in every block uses this many groups (as the reference's `normalization`).
NORM_GROUPS = 32

_C = TypeVar("_C", bound="_ConfigDict")


class ConfigError(ValueError):
    """A network configuration that cannot be built."""


class _ConfigDict:
    """to_dict/from_dict for flat dataclasses whose sequence fields are tuples."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls: type[_C], data: dict[str, Any]) -> _C:
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__}: expected a dict, got {type(data).__name__}")
        names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(f"{cls.__name__}: unknown field(s) {unknown}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kwargs)


def _check_levels(owner: str, levels: int, **sequences: tuple[Any, ...]) -> None:
    for name, seq in sequences.items():
        if len(seq) != levels:
            raise ConfigError(f"{owner}: {name} has {len(seq)} entries, expected {levels} (one per level)")


def _check_groups(owner: str, what: str, channels: int) -> None:
    if channels % NORM_GROUPS:
        raise ConfigError(f"{owner}: {what} = {channels} is not a multiple of {NORM_GROUPS} (GroupNorm groups)")


# The reference's defaults where they differ from our official presets (its constructor
# signature: channel_mult (1, 2, 4, 8), no video architecture, ...).
_REFERENCE_DEFAULTS: dict[str, Any] = {
    "channel_mult": (1, 2, 4, 8), "num_res_blocks": (2, 2, 2, 2), "with_attention": (True, True, True, False),
    "with_connector": (True, True, True, False), "context_dim": 768, "num_heads": 8,
    "connector_channel_mult": (1, 2, 4), "connector_res_blocks": (1, 1, 1), "connector_output_channels": 1280,
}


def _fill_reference_defaults(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Add the reference constructor's defaults for omitted args, and cut per-level lists to
    the number of levels (the reference only reads the first len(channel_mult) entries)."""
    names = {f.name for f in dataclasses.fields(cls)}
    full = {k: v for k, v in _REFERENCE_DEFAULTS.items() if k in names}
    if "second_dim" in names:
        full.update(second_dim=(4, 4, 4, 4), connector_second_dim=(4, 4, 4))
    full.update(data)
    levels = len(full["channel_mult"])
    for k in ("num_res_blocks", "with_attention", "with_connector", "second_dim"):
        if k in full:
            full[k] = list(full[k])[:levels]
    return full


@dataclass(frozen=True)
class UNet2DConfig(_ConfigDict):
    """The image/video UNet and the audio UNet (reference ``UNetModel2D``).

    ``connector_channel_mult`` empty = no environment encoder (``init_connector=False``).
    ``video`` adds a temporal block after every residual block (``use_video_architecture``).
    """

    input_channels: int = 4
    output_channels: int = 4
    model_channels: int = 320
    context_dim: int = 768
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: tuple[int, ...] = (2, 2, 2, 2)
    with_attention: tuple[bool, ...] = (True, True, True, False)
    num_heads: int = 8
    connector_channel_mult: tuple[int, ...] = (1, 2, 4)
    connector_res_blocks: tuple[int, ...] = (1, 1, 1)
    with_connector: tuple[bool, ...] = (True, True, True, False)
    connector_output_channels: int = 1280
    video: bool = False
    video_head_divisor: int = 4
    video_heads: int = 8
    gradient_checkpointing: bool = False

    def __post_init__(self) -> None:
        owner = type(self).__name__
        _check_levels(owner, len(self.channel_mult), num_res_blocks=self.num_res_blocks,
                      with_attention=self.with_attention, with_connector=self.with_connector)
        _check_levels(owner, len(self.connector_channel_mult), connector_res_blocks=self.connector_res_blocks)
        for mult in self.channel_mult:
            ch = mult * self.model_channels
            _check_groups(owner, "level channels", ch)
            if ch % self.num_heads:
                raise ConfigError(f"{owner}: level channels {ch} not divisible by num_heads {self.num_heads}")
        if self.has_connector:
            _check_groups(owner, "connector input channels (model_channels // 2)", self.model_channels // 2)

    @property
    def has_connector(self) -> bool:
        return len(self.connector_channel_mult) > 0

    @classmethod
    def official_image(cls) -> UNet2DConfig:
        """CoDi's image/video UNet (openai_unet_2d)."""
        return cls(video=True)

    @classmethod
    def official_audio(cls) -> UNet2DConfig:
        """CoDi's audio UNet (openai_unet_2d_audio)."""
        return cls(input_channels=8, output_channels=8, model_channels=192)

    @classmethod
    def from_reference_args(cls, args: dict[str, Any]) -> UNet2DConfig:
        """Build from the reference's UNetModel2D keyword arguments."""
        a = dict(args)
        connector = a.pop("init_connector", True)
        a.pop("use_checkpoint", None)
        rename = {"num_noattn_blocks": "num_res_blocks", "with_attn": "with_attention",
                  "channel_mult_connector": "connector_channel_mult",
                  "num_noattn_blocks_connector": "connector_res_blocks",
                  "connector_output_channel": "connector_output_channels",
                  "use_video_architecture": "video", "video_dim_scale_factor": "video_head_divisor"}
        data = _fill_reference_defaults(cls, {rename.get(k, k): v for k, v in a.items()})
        if not connector:
            data["connector_channel_mult"] = []
            data["connector_res_blocks"] = []
            data["with_connector"] = [False] * len(data["channel_mult"])
        return cls.from_dict(data)


@dataclass(frozen=True)
class UNet0DConfig(_ConfigDict):
    """The text UNet (reference ``UNetModel0D_MultiDim``): fully connected blocks on
    features laid out as [channels, second_dim]."""

    input_channels: int = 768
    output_channels: int = 768
    model_channels: int = 320
    context_dim: int = 768
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    second_dim: tuple[int, ...] = (4, 4, 4, 4)
    num_res_blocks: tuple[int, ...] = (2, 2, 2, 2)
    with_attention: tuple[bool, ...] = (True, True, True, False)
    num_heads: int = 8
    connector_channel_mult: tuple[int, ...] = (1, 2, 4)
    connector_second_dim: tuple[int, ...] = (4, 4, 4)
    connector_res_blocks: tuple[int, ...] = (1, 1, 1)
    with_connector: tuple[bool, ...] = (True, True, True, False)
    connector_output_channels: int = 1280
    gradient_checkpointing: bool = False

    def __post_init__(self) -> None:
        owner = type(self).__name__
        _check_levels(owner, len(self.channel_mult), second_dim=self.second_dim,
                      num_res_blocks=self.num_res_blocks, with_attention=self.with_attention,
                      with_connector=self.with_connector)
        _check_levels(owner, len(self.connector_channel_mult), connector_second_dim=self.connector_second_dim,
                      connector_res_blocks=self.connector_res_blocks)
        for mult in self.channel_mult:
            ch = mult * self.model_channels
            _check_groups(owner, "level channels", ch)
            if ch % self.num_heads:
                raise ConfigError(f"{owner}: level channels {ch} not divisible by num_heads {self.num_heads}")

    @property
    def has_connector(self) -> bool:
        return len(self.connector_channel_mult) > 0

    @classmethod
    def official_text(cls) -> UNet0DConfig:
        """CoDi's text UNet (openai_unet_0dmd)."""
        return cls()

    @classmethod
    def from_reference_args(cls, args: dict[str, Any]) -> UNet0DConfig:
        """Build from the reference's UNetModel0D_MultiDim keyword arguments."""
        a = dict(args)
        connector = a.pop("init_connector", True)
        a.pop("use_checkpoint", None)
        rename = {"num_noattn_blocks": "num_res_blocks", "with_attn": "with_attention",
                  "channel_mult_connector": "connector_channel_mult",
                  "num_noattn_blocks_connector": "connector_res_blocks",
                  "second_dim_connector": "connector_second_dim",
                  "connector_output_channel": "connector_output_channels"}
        data = _fill_reference_defaults(cls, {rename.get(k, k): v for k, v in a.items()})
        if not connector:
            for k in ("connector_channel_mult", "connector_res_blocks", "connector_second_dim"):
                data[k] = []
            data["with_connector"] = [False] * len(data["channel_mult"])
        return cls.from_dict(data)


@dataclass(frozen=True)
class CodiUNetConfig:
    """The joint CoDi UNet: any subset of the three sub-networks, and the joint mode.

    joint_mode "reference": each output attends to its own pooled environment vector
    (the released code); "cross": to the pooled vectors of the other outputs.
    """

    image: UNet2DConfig | None = field(default_factory=UNet2DConfig.official_image)
    text: UNet0DConfig | None = field(default_factory=UNet0DConfig.official_text)
    audio: UNet2DConfig | None = field(default_factory=UNet2DConfig.official_audio)
    joint_mode: str = "cross"
    # The released joint forward's decoder-skip quirk (see SubUNet.denoise); the official
    # weights expect it, so it stays on unless a model is trained without it.
    middle_self_skip: bool = True

    def __post_init__(self) -> None:
        if self.joint_mode not in JOINT_MODES:
            raise ConfigError(f"CodiUNetConfig: joint_mode {self.joint_mode!r} is not one of {JOINT_MODES}")
        if self.image is None and self.text is None and self.audio is None:
            raise ConfigError("CodiUNetConfig: at least one of image, text, audio is needed")

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.image.to_dict() if self.image else None,
                "text": self.text.to_dict() if self.text else None,
                "audio": self.audio.to_dict() if self.audio else None,
                "joint_mode": self.joint_mode, "middle_self_skip": self.middle_self_skip}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CodiUNetConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"CodiUNetConfig: expected a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - {"image", "text", "audio", "joint_mode", "middle_self_skip"})
        if unknown:
            raise ConfigError(f"CodiUNetConfig: unknown field(s) {unknown}")
        image, text, audio = data.get("image"), data.get("text"), data.get("audio")
        return cls(image=UNet2DConfig.from_dict(image) if image is not None else None,
                   text=UNet0DConfig.from_dict(text) if text is not None else None,
                   audio=UNet2DConfig.from_dict(audio) if audio is not None else None,
                   joint_mode=data.get("joint_mode", "cross"),
                   middle_self_skip=bool(data.get("middle_self_skip", True)))

    @classmethod
    def official(cls, joint_mode: str = "reference") -> CodiUNetConfig:
        """The released CoDi nets (openai_unet_codi). Default mode = what they were trained with."""
        return cls(UNet2DConfig.official_image(), UNet0DConfig.official_text(),
                   UNet2DConfig.official_audio(), joint_mode)

    @classmethod
    def tiny(cls, context_dim: int = 768, image_channels: int = 4, text_channels: int = 768,
             audio_channels: int = 8, video: bool = True, joint_mode: str = "cross") -> CodiUNetConfig:
        """A small CoDi (two levels, 64 base channels) for CPU training on the toy world."""
        common = dict(model_channels=64, context_dim=context_dim, channel_mult=(1, 2), num_res_blocks=(1, 1),
                      with_attention=(True, True), num_heads=4, connector_channel_mult=(1, 2),
                      connector_res_blocks=(1, 1), with_connector=(True, True), connector_output_channels=128)
        image = UNet2DConfig(input_channels=image_channels, output_channels=image_channels, video=video,
                             **common)  # type: ignore[arg-type]
        audio = UNet2DConfig(input_channels=audio_channels, output_channels=audio_channels,
                             **common)  # type: ignore[arg-type]
        text = UNet0DConfig(input_channels=text_channels, output_channels=text_channels, second_dim=(2, 2),
                            connector_second_dim=(2, 2), **common)  # type: ignore[arg-type]
        return cls(image, text, audio, joint_mode)
