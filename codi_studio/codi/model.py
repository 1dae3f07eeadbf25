"""CodiModel: a model folder opened for inference, its components built lazily.

Nothing is read until a job needs it: a text->image job never builds the
audio UNet or the CLAP encoder. With `offload=True` (GPU) at most one big
component sits on the accelerator at a time; the rest wait on the CPU.
"""

from __future__ import annotations

import threading
from pathlib import Path

import torch
import torch.nn as nn
from safetensors import SafetensorError
from safetensors.torch import load_file

from codi_studio.codi import components
from codi_studio.codi.config import ModelConfig
from codi_studio.codi.devices import parse_dtype, resolve_device
from codi_studio.codi.model_store import content_hash

# components that stay in float32 even on a half-precision device (small, precision-sensitive)
_FLOAT32_COMPONENTS = frozenset({"vocoder"})


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
        self._on_device: str | None = None
        self._lock = threading.Lock()
        self._hash: str | None = None

    @classmethod
    def open(cls, folder: str | Path, device: str = "auto", dtype: str | None = None,
             offload: bool = False) -> "CodiModel":
        folder = Path(folder)
        config = ModelConfig.load(folder)
        resolved = resolve_device(device)
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

    def component(self, name: str) -> nn.Module:
        """The named component, built and loaded on first use, on the model's device."""
        with self._lock:
            module = self._modules.get(name)
            if module is None:
                module = self._load(name)
                self._modules[name] = module
            if self.offload and name != self._on_device:
                if self._on_device is not None:
                    self._modules[self._on_device].to("cpu")
                module.to(self.device)
                self._on_device = name
            return module

    def loaded(self) -> tuple[str, ...]:
        return tuple(self._modules)

    def release(self, name: str) -> None:
        with self._lock:
            self._modules.pop(name, None)
            if self._on_device == name:
                self._on_device = None

    def _load(self, name: str) -> nn.Module:
        try:
            spec = self.config.components[name]
        except KeyError:
            raise ModelLoadError(f"{self.folder}: model has no {name!r} component") from None
        module = components.build(spec.type, spec.config)
        if spec.file:
            path = self.folder / spec.file
            try:
                state = load_file(str(path))
            except FileNotFoundError:
                raise ModelLoadError(f"{path}: weight file missing") from None
            except (SafetensorError, OSError) as exc:
                raise ModelLoadError(f"{path}: unreadable weights ({exc})") from exc
            missing, unexpected = module.load_state_dict(state, strict=False)
            missing = [k for k in missing if not _is_derived_buffer(module, k)]
            if missing or unexpected:
                raise ModelLoadError(
                    f"{path}: weights do not fit the {name} config: "
                    f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
                )
        dtype = torch.float32 if name in _FLOAT32_COMPONENTS else self.dtype
        module.to(dtype=dtype)
        if not self.offload:
            module.to(self.device)
        module.eval()
        module.requires_grad_(False)
        return module


def _is_derived_buffer(module: nn.Module, key: str) -> bool:
    """Non-persistent buffers are rebuilt from config and never stored."""
    owner_name, _, buffer_name = key.rpartition(".")
    owner = module.get_submodule(owner_name) if owner_name else module
    return buffer_name in getattr(owner, "_non_persistent_buffers_set", set())
