"""CodiModel: a model folder opened for inference, its components built lazily.

Nothing is read until a job needs it: a text->image job never builds the
audio UNet or the CLAP encoder. With `offload=True` (GPU) at most one big
component sits on the accelerator at a time; the rest wait on the CPU.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable

import torch
import torch.nn as nn
from safetensors import SafetensorError
from safetensors.torch import load_file

from codi_studio.codi import components
from codi_studio.codi.config import ComponentSpec, ModelConfig
from codi_studio.codi.devices import configure_cpu_threads, parse_dtype, resolve_device
from codi_studio.codi.model_store import content_hash

# components that stay in float32 even on a half-precision device (small, precision-sensitive)
_FLOAT32_COMPONENTS = frozenset({"vocoder"})
# output modality -> the sub-UNet it runs on, and that sub-UNet's key in the UNet config
UNET_FOR = {"image": "unet_image", "video": "unet_image", "text": "unet_text", "audio": "unet_audio"}
_UNET_CONFIG_KEY = {"unet_image": "image", "unet_text": "text", "unet_audio": "audio"}


class ModelLoadError(Exception):
    """A model's weights are missing, damaged, or do not fit its config."""


class CodiModel:
    def __init__(self, folder: Path, config: ModelConfig, device: torch.device, dtype: torch.dtype,
                 offload: bool = False) -> None:
        self.folder = Path(folder)
        self.config = config
        self.device = device
        self.dtype = dtype
        self.offload = offload and device.type != "cpu"
        self._modules: dict[str, nn.Module] = {}
        self._unet_parts: frozenset[str] = frozenset()
        self._on_device: str | None = None
        self._lock = threading.RLock()
        self._hash: str | None = None

    @classmethod
    def open(cls, folder: str | Path, device: str = "auto", dtype: str | None = None,
             offload: bool = False) -> "CodiModel":
        folder = Path(folder)
        config = ModelConfig.load(folder)
        resolved = resolve_device(device)
        if resolved.type == "cpu":
            configure_cpu_threads()
        return cls(folder, config, resolved, parse_dtype(dtype, resolved), offload)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def content_hash(self) -> str:
        if self._hash is None:
            self._hash = content_hash(self.folder)
        return self._hash

    def has(self, name: str) -> bool:
        return name in self.config.components

    def loaded(self) -> tuple[str, ...]:
        return tuple(self._modules)

    def component(self, name: str) -> nn.Module:
        """The named component, built and loaded on first use, on the model's device."""
        if name == "unet":
            return self.unet(self._unet_parts or UNET_FOR)
        with self._lock:
            module = self._modules.get(name)
            if module is None:
                module = self._load(name, self._spec(name))
                self._modules[name] = module
            return self._placed(name, module)

    def unet(self, outputs: Iterable[str]) -> nn.Module:
        """The CoDi UNet holding (at least) the sub-UNets these outputs run on, and no others unread."""
        needed = frozenset(UNET_FOR[m] if m in UNET_FOR else m for m in outputs)
        with self._lock:
            module = self._modules.get("unet")
            if module is None or not needed <= self._unet_parts:
                parts = self._unet_parts | needed
                spec = self._spec("unet")
                config = dict(spec.config)
                available = {sub for sub, key in _UNET_CONFIG_KEY.items() if config.get(key) is not None}
                if not parts <= available:
                    missing = ", ".join(sorted(parts - available))
                    raise ModelLoadError(f"{self.folder}: this model has no {missing} (it cannot make that output)")
                for sub, key in _UNET_CONFIG_KEY.items():
                    if sub not in parts:
                        config[key] = None
                module = self._load("unet", ComponentSpec(spec.type, config, spec.file, spec.shards), parts)
                self._modules["unet"] = module
                self._unet_parts = parts
            return self._placed("unet", module)

    def release(self, name: str) -> None:
        with self._lock:
            self._modules.pop(name, None)
            if name == "unet":
                self._unet_parts = frozenset()
            if self._on_device == name:
                self._on_device = None

    def _spec(self, name: str) -> ComponentSpec:
        try:
            return self.config.components[name]
        except KeyError:
            raise ModelLoadError(f"{self.folder}: model has no {name!r} component") from None

    def _placed(self, name: str, module: nn.Module) -> nn.Module:
        if self.offload and name != self._on_device:
            if self._on_device is not None and self._on_device in self._modules:
                self._modules[self._on_device].to("cpu")
            module.to(self.device)
            self._on_device = name
        return module

    def _read(self, file: str) -> dict[str, torch.Tensor]:
        path = self.folder / file
        try:
            return load_file(str(path))
        except FileNotFoundError:
            raise ModelLoadError(f"{path}: weight file missing") from None
        except (SafetensorError, OSError) as exc:
            raise ModelLoadError(f"{path}: unreadable weights ({exc})") from exc

    def _load(self, name: str, spec: ComponentSpec, parts: frozenset[str] | None = None) -> nn.Module:
        module = components.build(spec.type, spec.config)
        state: dict[str, torch.Tensor] = {}
        if spec.shards:
            for file in spec.shards:
                if parts is None or Path(file).stem in parts:
                    state.update(self._read(file))
        elif spec.file:
            state = self._read(spec.file)
            if parts is not None:
                state = {k: v for k, v in state.items() if k.split(".", 1)[0] in parts}
        if spec.file or spec.shards:
            missing, unexpected = module.load_state_dict(state, strict=False)
            buffers = {n for n, _ in module.named_buffers()}
            missing = [k for k in missing if k not in buffers]  # buffers are rebuilt from config
            if missing or unexpected:
                where = self.folder / (spec.file or ", ".join(spec.shards))
                raise ModelLoadError(
                    f"{where}: weights do not fit the {name} config: "
                    f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
                )
        dtype = torch.float32 if name in _FLOAT32_COMPONENTS else self.dtype
        module.to(dtype=dtype)
        if not self.offload:
            module.to(self.device)
        module.eval()
        module.requires_grad_(False)
        return module
