"""Config dataclasses for CoDi's autoencoders: plain data, with official presets and tiny ones.

Each config round-trips through `to_dict()` / `from_dict()` (the dict is what a model folder's
config.json stores). `from_dict` rejects unknown keys so a typo in a config file is an error,
not a silently ignored setting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

_C = TypeVar("_C")


def _from_dict(cls: type[_C], data: dict[str, Any], what: str) -> _C:
    if not isinstance(data, dict):
        raise ValueError(f"{what} config must be a dict, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{what} config has unknown keys {unknown} (known: {sorted(known)})")
    # JSON turns tuples into lists; dataclass fields here are tuples so configs stay hashable
    clean = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
             for k, v in data.items()}
    return cls(**clean)


def _to_dict(obj: Any) -> dict[str, Any]:
    def listify(v: Any) -> Any:
        if isinstance(v, (tuple, list)):
            return [listify(x) for x in v]
        if isinstance(v, dict):
            return {k: listify(x) for k, x in v.items()}
        return v

    return listify(asdict(obj))


# --------------------------------------------------------------------------- image VAE
@dataclass(frozen=True)
class ImageVAEConfig:
    """Stable Diffusion kl-f8 layout (CoDi's `autokl`): diffusers AutoencoderKL arguments."""

    in_channels: int = 3
    out_channels: int = 3
    latent_channels: int = 4
    block_out_channels: tuple[int, ...] = (128, 256, 512, 512)
    layers_per_block: int = 2
    norm_num_groups: int = 32
    sample_size: int = 256
    scaling_factor: float = 0.18215  # CoDi's vision_scale_factor (codi.yaml)

    @classmethod
    def official(cls) -> "ImageVAEConfig":
        return cls()

    @classmethod
    def tiny(cls) -> "ImageVAEConfig":
        """Two levels of 32 channels (the `autokl` parity fixture's shape): downsamples by 2."""
        return cls(block_out_channels=(32, 32), layers_per_block=1, sample_size=32)

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.block_out_channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ImageVAEConfig":
        return _from_dict(cls, data, "image VAE")


# --------------------------------------------------------------------------- mel front end
@dataclass(frozen=True)
class MelConfig:
    """AudioLDM's mel front end (audioldm_modules/audio/stft.py TacotronSTFT defaults)."""

    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 160
    win_length: int = 1024
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float = 8000.0
    log_floor: float = 1e-5  # dynamic_range_compression clip value before log
    frames_per_second: float = 102.4  # target length = int(seconds * 102.4) frames

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MelConfig":
        return _from_dict(cls, data, "mel")

    def frames_for_seconds(self, seconds: float) -> int:
        return int(seconds * self.frames_per_second)


# --------------------------------------------------------------------------- audio VAE
@dataclass(frozen=True)
class AudioVAEConfig:
    """AudioLDM mel VAE (CoDi's `audioldm`, audioldm.yaml): 1-channel mel image -> 8 latent channels."""

    latent_channels: int = 8
    block_out_channels: tuple[int, ...] = (128, 256, 512)
    layers_per_block: int = 2
    norm_num_groups: int = 32
    scaling_factor: float = 0.9228  # CoDi's audio_scale_factor
    # CoDi's audioldm_decode: a latent with |z| > clip_threshold is first clipped to +-clip_value
    clip_threshold: float = 100.0
    clip_value: float = 10.0
    mel: MelConfig = field(default_factory=MelConfig)

    @classmethod
    def official(cls) -> "AudioVAEConfig":
        return cls()

    @classmethod
    def tiny(cls) -> "AudioVAEConfig":
        """Two levels of 32 channels (the `audioldm_decode` parity fixture's shape)."""
        return cls(block_out_channels=(32, 32), layers_per_block=1)

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.block_out_channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AudioVAEConfig":
        data = dict(data)
        mel = MelConfig.from_dict(data.pop("mel")) if "mel" in data else MelConfig()
        cfg = _from_dict(cls, data, "audio VAE")
        return cls(**{**{f.name: getattr(cfg, f.name) for f in fields(cls)}, "mel": mel})


# --------------------------------------------------------------------------- vocoders
@dataclass(frozen=True)
class HifiGanConfig:
    """HiFi-GAN 16k-64 (hifigan/utilities.py HIFIGAN_16K_64) as transformers SpeechT5HifiGanConfig."""

    type: str = "hifigan"
    model_in_dim: int = 64
    sampling_rate: int = 16000
    upsample_initial_channel: int = 1024
    upsample_rates: tuple[int, ...] = (5, 4, 2, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 8, 4, 4)
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    leaky_relu_slope: float = 0.1

    @classmethod
    def official(cls) -> "HifiGanConfig":
        return cls()

    @classmethod
    def tiny(cls) -> "HifiGanConfig":
        """The `hifigan_tiny` parity fixture's shape: 8 mels, x4 upsampling."""
        return cls(model_in_dim=8, upsample_initial_channel=16, upsample_rates=(2, 2),
                   upsample_kernel_sizes=(4, 4), resblock_kernel_sizes=(3, 7),
                   resblock_dilation_sizes=((1, 3, 5), (1, 3, 5)))

    @property
    def hop_length(self) -> int:
        hop = 1
        for r in self.upsample_rates:
            hop *= r
        return hop

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HifiGanConfig":
        return _from_dict(cls, data, "HiFi-GAN vocoder")


@dataclass(frozen=True)
class GriffinLimConfig:
    """A parameter-free vocoder: log-mel -> linear magnitude (mel pseudo-inverse) -> Griffin-Lim."""

    type: str = "griffin_lim"
    n_iter: int = 32
    momentum: float = 0.99  # "fast Griffin-Lim" (Perraudin et al. 2013)
    seed: int = 0  # initial phases are drawn from this seed, so vocoding is deterministic
    mel: MelConfig = field(default_factory=MelConfig)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GriffinLimConfig":
        data = dict(data)
        mel = MelConfig.from_dict(data.pop("mel")) if "mel" in data else MelConfig()
        cfg = _from_dict(cls, data, "Griffin-Lim vocoder")
        return cls(**{**{f.name: getattr(cfg, f.name) for f in fields(cls)}, "mel": mel})


VocoderConfig = HifiGanConfig | GriffinLimConfig


def vocoder_config_from_dict(data: dict[str, Any]) -> VocoderConfig:
    kind = data.get("type", "hifigan") if isinstance(data, dict) else None
    if kind == "hifigan":
        return HifiGanConfig.from_dict(data)
    if kind == "griffin_lim":
        return GriffinLimConfig.from_dict(data)
    raise ValueError(f"vocoder config type must be 'hifigan' or 'griffin_lim', got {kind!r}")


# --------------------------------------------------------------------------- text VAE
@dataclass(frozen=True)
class TextVAEConfig:
    """Optimus (optimus.yaml): BERT encoder + GPT-2 decoder around a latent_size latent."""

    latent_size: int = 768
    scaling_factor: float = 4.3108  # CoDi's text_scale_factor
    # BERT-base-cased encoder
    encoder_vocab_size: int = 28996
    encoder_hidden_size: int = 768
    encoder_layers: int = 12
    encoder_heads: int = 12
    encoder_intermediate_size: int = 3072
    encoder_max_positions: int = 512
    encoder_type_vocab_size: int = 2
    encoder_layer_norm_eps: float = 1e-12
    # GPT-2 decoder (vocab 50257 + <PAD> <BOS> <EOS>)
    decoder_vocab_size: int = 50260
    decoder_hidden_size: int = 768
    decoder_layers: int = 12
    decoder_heads: int = 12
    decoder_max_positions: int = 1024
    decoder_layer_norm_eps: float = 1e-5
    # generation (optimus.py decode; model_module_infer.py post-processing)
    bos_token: str = "<BOS>"
    eos_token: str = "<EOS>"
    max_length: int = 30  # tokens, counting <BOS>
    lowercase_input: bool = True  # CoDi's optimus_encode lower-cases before tokenising

    @classmethod
    def official(cls) -> "TextVAEConfig":
        return cls()

    @classmethod
    def tiny(cls, encoder_vocab_size: int = 64, decoder_vocab_size: int = 64) -> "TextVAEConfig":
        return cls(latent_size=16, encoder_vocab_size=encoder_vocab_size, encoder_hidden_size=32,
                   encoder_layers=2, encoder_heads=2, encoder_intermediate_size=64, encoder_max_positions=64,
                   decoder_vocab_size=decoder_vocab_size, decoder_hidden_size=32, decoder_layers=2,
                   decoder_heads=2, decoder_max_positions=64)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TextVAEConfig":
        return _from_dict(cls, data, "text VAE")
