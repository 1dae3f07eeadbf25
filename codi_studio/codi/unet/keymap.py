"""Parameter names: official CoDi checkpoint <-> ours.

Our modules keep the reference's module names (``input_blocks.N...``,
``connecters_out``, ``input_block_connecters_in`` ...), so the map only moves the
checkpoint's ``model.diffusion_model.`` prefix: a reference key
``model.diffusion_model.unet_image.input_blocks.1.0.0.in_layers.0.weight`` is our
``CodiUNet`` key ``unet_image.input_blocks.1.0.0.in_layers.0.weight``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

_T = TypeVar("_T")

REFERENCE_PREFIX = "model.diffusion_model."
SUBNETS = ("unet_image", "unet_text", "unet_audio")


def is_reference_unet_key(key: str) -> bool:
    """True for the checkpoint keys that belong to the diffusion UNets."""
    rest = key[len(REFERENCE_PREFIX):] if key.startswith(REFERENCE_PREFIX) else ""
    return rest.split(".", 1)[0] in SUBNETS and "." in rest


def reference_key_to_ours(key: str) -> str:
    """Official checkpoint key under ``model.diffusion_model.`` -> our CodiUNet state_dict key."""
    if not is_reference_unet_key(key):
        raise KeyError(f"{key!r} is not a CoDi UNet key (expected '{REFERENCE_PREFIX}<{'|'.join(SUBNETS)}>.…')")
    return key[len(REFERENCE_PREFIX):]


def our_key_to_reference(key: str) -> str:
    """Our CodiUNet state_dict key -> official checkpoint key."""
    if key.split(".", 1)[0] not in SUBNETS or "." not in key:
        raise KeyError(f"{key!r} is not a CodiUNet key (expected '<{'|'.join(SUBNETS)}>.…')")
    return REFERENCE_PREFIX + key


def unet_state_dict_from_reference(checkpoint: Mapping[str, _T]) -> dict[str, _T]:
    """The UNet entries of an official checkpoint (any of its .pth files), renamed to ours;
    other entries (VAEs, encoders, DDPM buffers) are left out."""
    return {reference_key_to_ours(k): v for k, v in checkpoint.items() if is_reference_unet_key(k)}
