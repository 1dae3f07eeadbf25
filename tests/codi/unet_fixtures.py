"""Loading the CoDi UNet parity fixtures (tests/fixtures/parity) into our networks."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from codi_studio.codi.unet import CodiUNet, CodiUNetConfig, UNet0DConfig, UNet2DConfig, reference_key_to_ours

PARITY = Path(__file__).resolve().parents[1] / "fixtures" / "parity"

# The calls recorded in codi_unets.json ('calls'): outputs, latents, conditions, mix weights.
CODI_CALLS: dict[str, tuple[list[str], list[str], list[str], dict[str, float]]] = {
    "single_image": (["image"], ["x_image"], ["text"], {"text": 1}),
    "single_video": (["video"], ["x_video"], ["text"], {"text": 1}),
    "single_text": (["text"], ["x_text"], ["image"], {"image": 1}),
    "single_audio": (["audio"], ["x_audio"], ["text"], {"text": 1}),
    "joint_video_audio": (["video", "audio"], ["x_video", "x_audio"], ["text", "image"], {"text": 1.0, "image": 3.0}),
    "joint_image_text": (["image", "text"], ["x_image", "x_text"], ["audio"], {"audio": 1}),
    "joint_text_audio": (["text", "audio"], ["x_text", "x_audio"], ["text", "audio"], {"text": 2.0, "audio": 1.0}),
}


def split_fixture(name: str) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(meta json, params, inputs, outputs) with the 'param.'/'input.'/'output.' prefixes removed."""
    meta = json.loads((PARITY / f"{name}.json").read_text())
    tensors = load_file(PARITY / f"{name}.safetensors")
    parts: dict[str, dict[str, torch.Tensor]] = {"param": {}, "input": {}, "output": {}}
    for key, value in tensors.items():
        kind, rest = key.split(".", 1)
        parts[kind][rest] = value
    return meta, parts["param"], parts["input"], parts["output"]


def codi_unets_model(joint_mode: str = "reference") -> tuple[CodiUNet, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The codi_unets fixture's network with its weights loaded through the key map,
    plus the fixture's inputs and outputs."""
    meta, params, inputs, outputs = split_fixture("codi_unets")
    kw = meta["kwargs"]
    config = CodiUNetConfig(image=UNet2DConfig.from_reference_args(kw["unet_image_cfg"]),
                            text=UNet0DConfig.from_reference_args(kw["unet_text_cfg"]),
                            audio=UNet2DConfig.from_reference_args(kw["unet_audio_cfg"]),
                            joint_mode=joint_mode)
    model = CodiUNet(config).eval()
    state = {reference_key_to_ours("model.diffusion_model." + k): v for k, v in params.items()}
    model.load_state_dict(state, strict=True)
    inputs["timesteps"] = inputs["timesteps"].long()
    return model, inputs, outputs
