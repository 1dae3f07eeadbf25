"""The autoencoders as model components: built from config dicts by the registered factories,
weights written to real safetensors files and read back, outputs unchanged."""

import pytest
import torch
from safetensors.torch import load_file, save_file

from codi_studio.codi import components
from codi_studio.codi.autoencoders import (
    AudioVAEConfig,
    GriffinLimConfig,
    HifiGanConfig,
    ImageVAEConfig,
    TextVAEConfig,
)

CASES = {
    "image_vae": (ImageVAEConfig.tiny(), lambda m: m.decode(m.encode(torch.rand(1, 3, 16, 16) * 2 - 1))),
    "audio_vae": (AudioVAEConfig.tiny(), lambda m: m.decode(m.encode(torch.randn(1, 4000), seconds=0.25))),
    "vocoder": (HifiGanConfig.tiny(), lambda m: m.vocode(torch.randn(1, 1, 6, 8))),
    "text_vae": (TextVAEConfig.tiny(), lambda m: m.logits(torch.randn(2, 16), torch.tensor([[1, 5, 7], [1, 2, 3]]))),
}


@pytest.mark.parametrize("type_name", sorted(CASES))
def test_component_round_trips_through_safetensors(type_name, tmp_path):
    config, run = CASES[type_name]
    torch.manual_seed(0)
    first = components.build(type_name, config.to_dict()).eval()
    path = tmp_path / f"{type_name}.safetensors"
    save_file({k: v.contiguous() for k, v in first.state_dict().items()}, str(path))
    second = components.build(type_name, config.to_dict()).eval()
    second.load_state_dict(load_file(str(path)), strict=True)
    with torch.no_grad():
        torch.manual_seed(1)
        a = run(first)
        torch.manual_seed(1)
        b = run(second)
    torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_griffin_lim_component_has_no_weights():
    vocoder = components.build("vocoder", GriffinLimConfig(n_iter=2).to_dict())
    assert vocoder.state_dict() == {}
    wave = vocoder.vocode(torch.full((1, 1, 5, 64), -4.0))
    assert wave.shape == (1, 5 * 160)


def test_bad_component_config_names_the_problem():
    with pytest.raises(ValueError, match="image VAE config has unknown keys"):
        components.build("image_vae", {"channels": 3})
    with pytest.raises(ValueError, match="vocoder config type"):
        components.build("vocoder", {"type": "melgan"})
