"""The official full-size nets: parameter names and shapes, and the checkpoint key map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from codi_studio.codi.unet import (CodiUNet, CodiUNetConfig, our_key_to_reference, reference_key_to_ours,
                                   unet_state_dict_from_reference)
from codi_studio.codi.unet.keymap import is_reference_unet_key

MANIFEST = Path(__file__).resolve().parents[1] / "fixtures" / "manifest" / "codi_full.json"


@pytest.fixture(scope="module")
def official_on_meta() -> CodiUNet:
    with torch.device("meta"):
        return CodiUNet(CodiUNetConfig.official())


def test_official_nets_have_exactly_the_checkpoint_keys_and_shapes(official_on_meta: CodiUNet) -> None:
    manifest = json.loads(MANIFEST.read_text())
    expected = {k: tuple(v["shape"]) for k, v in manifest.items() if is_reference_unet_key(k)}
    ours = {our_key_to_reference(k): tuple(v.shape) for k, v in official_on_meta.state_dict().items()}
    assert len(expected) == 3841
    assert sorted(set(expected) - set(ours)) == []
    assert sorted(set(ours) - set(expected)) == []
    wrong = {k: (ours[k], expected[k]) for k in expected if ours[k] != expected[k]}
    assert wrong == {}
    assert all(v.dtype == torch.float32 for v in official_on_meta.state_dict().values())


def test_official_element_counts(official_on_meta: CodiUNet) -> None:
    # Per sub-network element counts recorded in the manifest README.
    counts = {name: sum(p.numel() for p in getattr(official_on_meta, name).parameters())
              for name in ("unet_image", "unet_text", "unet_audio")}
    assert counts == {"unet_image": 1_772_784_247, "unet_text": 2_048_385_408, "unet_audio": 431_309_032}


def test_key_map_round_trip_and_errors() -> None:
    key = "model.diffusion_model.unet_text.input_blocks.1.0.in_layers.0.weight"
    assert reference_key_to_ours(key) == "unet_text.input_blocks.1.0.in_layers.0.weight"
    assert our_key_to_reference(reference_key_to_ours(key)) == key
    for bad in ("autokl.encoder.conv_in.weight", "model.diffusion_model.unet_video.x",
                "model.diffusion_model.unet_image"):
        with pytest.raises(KeyError, match="not a CoDi UNet key"):
            reference_key_to_ours(bad)
    with pytest.raises(KeyError, match="not a CodiUNet key"):
        our_key_to_reference("input_blocks.0.0.weight")


def test_unet_entries_are_picked_from_a_whole_checkpoint() -> None:
    checkpoint = {"model.diffusion_model.unet_audio.out.2.bias": 1, "autokl.decoder.conv_out.bias": 2,
                  "betas": 3, "model.diffusion_model.unet_text.time_embed.0.weight": 4}
    assert unet_state_dict_from_reference(checkpoint) == {"unet_audio.out.2.bias": 1, "unet_text.time_embed.0.weight": 4}
