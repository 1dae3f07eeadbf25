"""The model folder's config.json as data.

A model folder holds `config.json` plus one safetensors file per component.
Components are named (unet, image_vae, audio_vae, vocoder, text_vae, clip,
clap) and each carries its own type name and config dict, so the same code
builds the official full-size CoDi and the tiny embedded one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "codi-studio-model"
FORMAT_VERSION = 1

COMPONENT_NAMES = ("unet", "image_vae", "audio_vae", "vocoder", "text_vae", "clip", "clap")


class ModelConfigError(Exception):
    """A model folder's config is missing, malformed, or from a newer format."""


@dataclass(frozen=True)
class ComponentSpec:
    type: str
    config: dict[str, Any]
    file: str | None = None  # safetensors file in the model folder; None for parameter-free parts
    # or several files, one per top-level submodule (the UNet: one per sub-UNet, read only when used)
    shards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Geometry:
    """Media geometry the model was trained for (what inputs are resized to, what outputs are)."""

    image_size: int = 256
    video_frames: int = 8
    video_fps: float = 8.0
    audio_rate: int = 16000
    audio_seconds: float = 10.0  # 1024 mel frames at 102.4/s -> latent 256 x 16
    text_max_length: int = 77  # tokens for the CLIP text condition


@dataclass(frozen=True)
class ModelConfig:
    id: str
    name: str
    components: dict[str, ComponentSpec]
    joint_mode: str = "reference"  # "reference" (the released code) or "cross" (the paper)
    prediction_type: str = "epsilon"  # epsilon | v_prediction | sample
    beta_schedule: str = "scaled_linear"
    beta_start: float = 0.00085
    beta_end: float = 0.012
    num_train_timesteps: int = 1000
    geometry: Geometry = field(default_factory=Geometry)
    extras: dict[str, Any] = field(default_factory=dict)  # free-form: trainer notes, eval figures

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> "ModelConfig":
        if d.get("format") != FORMAT:
            raise ModelConfigError(f"{source}: not a CoDi Studio model config (format={d.get('format')!r})")
        version = d.get("format_version", 0)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelConfigError(
                f"{source}: model format version {version} is newer than this CoDi Studio understands "
                f"({FORMAT_VERSION}); update CoDi Studio"
            )
        try:
            comps = {
                name: ComponentSpec(type=c["type"], config=dict(c.get("config", {})), file=c.get("file"),
                                    shards=tuple(c.get("shards", ())))
                for name, c in d["components"].items()
            }
            geometry = Geometry(**d.get("geometry", {}))
            return cls(
                id=str(d["id"]),
                name=str(d.get("name", d["id"])),
                components=comps,
                joint_mode=d.get("joint_mode", "reference"),
                prediction_type=d.get("prediction_type", "epsilon"),
                beta_schedule=d.get("beta_schedule", "scaled_linear"),
                beta_start=float(d.get("beta_start", 0.00085)),
                beta_end=float(d.get("beta_end", 0.012)),
                num_train_timesteps=int(d.get("num_train_timesteps", 1000)),
                geometry=geometry,
                extras=dict(d.get("extras", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelConfigError(f"{source}: malformed model config ({exc})") from exc

    def save(self, folder: Path) -> None:
        path = Path(folder) / "config.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=False))
        tmp.replace(path)

    @classmethod
    def load(cls, folder: Path) -> "ModelConfig":
        path = Path(folder) / "config.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelConfigError(f"{path}: no config.json: {folder} is not a CoDi Studio model folder") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelConfigError(f"{path}: unreadable model config ({exc})") from exc
        return cls.from_dict(data, source=str(path))
