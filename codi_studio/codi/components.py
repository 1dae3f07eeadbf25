"""Component types a model config may name, and how to build each from its config dict.

An allow-list, not an import path read from the config: a model folder can
only ever build these classes.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import torch.nn as nn

# type name -> "module:callable" taking the component's config dict and returning an nn.Module
_BUILDERS: dict[str, str] = {}


def register(type_name: str, target: str) -> None:
    _BUILDERS[type_name] = target


def known_types() -> tuple[str, ...]:
    return tuple(sorted(_BUILDERS))


def build(type_name: str, config: dict[str, Any]) -> nn.Module:
    try:
        target = _BUILDERS[type_name]
    except KeyError:
        raise ValueError(
            f"unknown component type {type_name!r} (known: {', '.join(known_types()) or 'none'})"
        ) from None
    module_name, _, attr = target.partition(":")
    factory: Callable[[dict[str, Any]], nn.Module] = getattr(importlib.import_module(module_name), attr)
    return factory(config)


def build_codi_unet(config: dict[str, Any]) -> nn.Module:
    from codi_studio.codi.unet import CodiUNet, CodiUNetConfig

    return CodiUNet(CodiUNetConfig.from_dict(config))


register("codi_unet", "codi_studio.codi.components:build_codi_unet")
register("image_vae", "codi_studio.codi.autoencoders:build_image_vae")
register("audio_vae", "codi_studio.codi.autoencoders:build_audio_vae")
register("vocoder", "codi_studio.codi.autoencoders:build_vocoder")
register("text_vae", "codi_studio.codi.autoencoders:build_text_vae")
register("clip", "codi_studio.codi.encoders:build_clip_encoder")
register("clap", "codi_studio.codi.encoders:build_clap_encoder")
