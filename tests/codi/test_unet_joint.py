"""Joint generation modes, composable conditioning, configs, video handling and training hooks."""

from __future__ import annotations

import json

import pytest
import torch
from unet_fixtures import codi_unets_model

from codi_studio.codi.unet import (CodiUNet, CodiUNetConfig, ConfigError, UNet0DConfig, UNet2D, UNet2DConfig,
                                   mix_conditions)


@pytest.fixture(scope="module")
def codi() -> tuple:
    return codi_unets_model("reference")


def _image_audio(model: CodiUNet, inputs: dict, audio: torch.Tensor, mode: str) -> torch.Tensor:
    with torch.no_grad():
        out = model({"image": inputs["x_image"], "audio": audio}, inputs["timesteps"], inputs["cond_text"],
                    joint_mode=mode)
    return out["image"]


def test_cross_mode_image_depends_on_the_joint_audio_latent(codi: tuple) -> None:
    model, inputs, _ = codi
    other_audio = inputs["x_audio"] + torch.randn(inputs["x_audio"].shape, generator=torch.Generator().manual_seed(3))
    a = _image_audio(model, inputs, inputs["x_audio"], "cross")
    b = _image_audio(model, inputs, other_audio, "cross")
    assert (a - b).abs().max() > 1e-4


def test_reference_mode_image_ignores_the_joint_audio_latent_but_runs_its_own_connector(codi: tuple) -> None:
    model, inputs, _ = codi
    other_audio = inputs["x_audio"] * -2.0
    a = _image_audio(model, inputs, inputs["x_audio"], "reference")
    b = _image_audio(model, inputs, other_audio, "reference")
    assert torch.equal(a, b)  # the released code: each output attends to its OWN environment vector
    with torch.no_grad():
        single = model({"image": inputs["x_image"]}, inputs["timesteps"], inputs["cond_text"])["image"]
    assert (a - single).abs().max() > 1e-4  # ...which still changes the output vs. a single-output call


def test_single_output_has_no_coupling_and_no_mode(codi: tuple) -> None:
    model, inputs, _ = codi
    with torch.no_grad():
        ref = model({"image": inputs["x_image"]}, inputs["timesteps"], inputs["cond_text"], joint_mode="reference")
        cross = model({"image": inputs["x_image"]}, inputs["timesteps"], inputs["cond_text"], joint_mode="cross")
    assert torch.equal(ref["image"], cross["image"])


def test_modes_differ_only_in_the_connector_attention_input(codi: tuple) -> None:
    model, inputs, _ = codi
    t, ctx = inputs["timesteps"], inputs["cond_text"]
    image_net, audio_net = model.unet_image, model.unet_audio
    with torch.no_grad():
        emb_i, emb_a = image_net.embed_time(t), audio_net.embed_time(t)
        env_i = image_net.encode_environment(inputs["x_image"], emb_i, ctx)
        env_a = audio_net.encode_environment(inputs["x_audio"], emb_a, ctx)
        assert torch.allclose(env_i.norm(dim=-1), torch.ones(2))  # pooled and L2-normalised
        by_hand = {mode: image_net.denoise(inputs["x_image"], emb_i, ctx, env[:, None], middle_self_skip=True)
                   for mode, env in (("reference", env_i), ("cross", env_a))}
    for mode in ("reference", "cross"):
        assert torch.allclose(_image_audio(model, inputs, inputs["x_audio"], mode), by_hand[mode], atol=1e-6)


def test_cross_mode_with_three_outputs_attends_to_two_tokens(codi: tuple) -> None:
    model, inputs, _ = codi
    latents = {"image": inputs["x_image"], "text": inputs["x_text"], "audio": inputs["x_audio"]}
    t, ctx = inputs["timesteps"], inputs["cond_text"]
    with torch.no_grad():
        out = model(latents, t, ctx, joint_mode="cross")
        emb_t = model.unet_text.embed_time(t)
        env = {m: model.subnet(m).encode_environment(x, model.subnet(m).embed_time(t), ctx) for m, x in latents.items()}
        text_by_hand = model.unet_text.denoise(latents["text"], emb_t, ctx,
                                               torch.stack([env["image"], env["audio"]], 1), middle_self_skip=True)
    assert {k: v.shape for k, v in out.items()} == {k: v.shape for k, v in latents.items()}
    assert torch.allclose(out["text"], text_by_hand, atol=1e-6)


def test_mix_conditions_weights_and_broadcasting() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 3, 8, generator=g), torch.randn(2, 1, 8, generator=g)
    mixed = mix_conditions([a, b], [1.0, 3.0])
    assert torch.allclose(mixed, a * 0.25 + b * 0.75)
    doubled = torch.cat([a, a])  # a CFG-doubled batch mixes half with half
    assert torch.allclose(mix_conditions([doubled, torch.cat([b, b])], [1.0, 3.0])[2:], mixed)
    with pytest.raises(ValueError, match="do not broadcast"):
        mix_conditions([a, torch.randn(2, 2, 8)], [1, 1])
    with pytest.raises(ValueError, match="sum to zero"):
        mix_conditions([a, b], [1, -1])
    with pytest.raises(ValueError, match="one weight per condition"):
        mix_conditions([a, b], [1])


def test_video_frames_are_coupled_and_images_use_the_same_weights(codi: tuple) -> None:
    model, inputs, _ = codi
    video = inputs["x_video"]
    changed = video.clone()
    changed[:, :, 0] += 1.0
    t, ctx = inputs["timesteps"], inputs["cond_text"]
    with torch.no_grad():
        a = model({"video": video}, t, ctx)["video"]
        b = model({"video": changed}, t, ctx)["video"]
        frame = model({"image": video[:, :, 2]}, t, ctx)["image"]
    assert a.shape == video.shape
    assert (a[:, :, 2] - b[:, :, 2]).abs().max() > 1e-4  # frame 2 sees frame 0 through the temporal layers
    assert frame.shape == video[:, :, 2].shape and (frame - a[:, :, 2]).abs().max() > 1e-4


def test_a_single_timestep_applies_to_the_whole_batch(codi: tuple) -> None:
    model, inputs, _ = codi
    x, ctx = inputs["x_audio"], inputs["cond_text"]
    with torch.no_grad():
        shared = model({"audio": x}, torch.tensor(500), ctx)["audio"]
        per_sample = model({"audio": x}, torch.tensor([500, 500]), ctx)["audio"]
        standalone = model.unet_audio(x, torch.tensor(500), ctx)
    assert torch.equal(shared, per_sample) and standalone.shape == x.shape


def test_bad_inputs_get_clear_errors(codi: tuple) -> None:
    model, inputs, _ = codi
    t, ctx = inputs["timesteps"], inputs["cond_text"]
    with pytest.raises(ValueError, match="image latent must have 4 dims"):
        model({"image": inputs["x_video"]}, t, ctx)
    with pytest.raises(ValueError, match="unknown modality 'smell'"):
        model({"smell": inputs["x_image"]}, t, ctx)
    with pytest.raises(ValueError, match="joint_mode 'both'"):
        model({"image": inputs["x_image"]}, t, ctx, joint_mode="both")
    with pytest.raises(ValueError, match="expects 8 latent channels"):
        model({"audio": inputs["x_image"]}, t, ctx)
    with pytest.raises(ValueError, match="expects \\(B, 16\\) text latents"):
        model({"text": inputs["x_text"][:, :8]}, t, ctx)
    with pytest.raises(ValueError, match="batch sizes differ"):
        model({"image": inputs["x_image"][:1]}, t, ctx)
    two_levels = UNet2D(UNet2DConfig(model_channels=32, context_dim=32, channel_mult=(1, 1), num_res_blocks=(1, 1),
                                     with_attention=(False, False), with_connector=(False, False), num_heads=2,
                                     connector_channel_mult=(), connector_res_blocks=()))
    with pytest.raises(ValueError, match="multiples of 2"):
        two_levels(torch.zeros(1, 4, 7, 8), torch.tensor(1), ctx[:1])
    image_only = CodiUNet(CodiUNetConfig(text=None, audio=None, image=UNet2DConfig(
        model_channels=64, channel_mult=(1,), num_res_blocks=(1,), with_attention=(True,), with_connector=(True,),
        connector_channel_mult=(1,), connector_res_blocks=(1,), context_dim=32, num_heads=2)))
    with pytest.raises(ValueError, match="no unet_audio"):
        image_only({"audio": inputs["x_audio"]}, t, ctx)


def test_configs_round_trip_through_json_and_reject_bad_fields() -> None:
    for config in (CodiUNetConfig.official(), CodiUNetConfig.tiny(), CodiUNetConfig(text=None, joint_mode="cross")):
        data = json.loads(json.dumps(config.to_dict()))
        assert CodiUNetConfig.from_dict(data) == config
    with pytest.raises(ConfigError, match="unknown field"):
        UNet2DConfig.from_dict({"model_channel": 64})
    with pytest.raises(ConfigError, match="num_res_blocks has 3 entries"):
        UNet0DConfig(num_res_blocks=(2, 2, 2))
    with pytest.raises(ConfigError, match="multiple of 32"):
        UNet2DConfig(model_channels=40)
    with pytest.raises(ConfigError, match="joint_mode"):
        CodiUNetConfig(joint_mode="paper")


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    one_level = dict(model_channels=64, context_dim=32, channel_mult=(1,), num_res_blocks=(1,), with_attention=(True,),
                     num_heads=2, connector_channel_mult=(1,), connector_res_blocks=(1,), with_connector=(True,),
                     connector_output_channels=32)
    config = CodiUNetConfig(image=UNet2DConfig(video=True, **one_level), audio=None,
                            text=UNet0DConfig(input_channels=16, output_channels=16, second_dim=(2,),
                                              connector_second_dim=(2,), **one_level))
    torch.manual_seed(0)
    model = CodiUNet(config).train()
    for p in model.parameters():  # zero-initialised output layers would hide most gradients
        torch.nn.init.normal_(p, std=0.05) if p.ndim > 1 else None
    g = torch.Generator().manual_seed(1)
    latents = {"video": torch.randn(1, 4, 2, 8, 8, generator=g), "text": torch.randn(1, 16, generator=g)}
    t, ctx = torch.tensor([300]), torch.randn(1, 2, 32, generator=g)

    def grads(checkpointing: bool) -> dict[str, torch.Tensor]:
        model.zero_grad()
        model.set_gradient_checkpointing(checkpointing)
        out = model(latents, t, ctx, joint_mode="cross")
        sum(v.square().mean() for v in out.values()).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    plain, checkpointed = grads(False), grads(True)
    assert plain.keys() == checkpointed.keys() and len(plain) > 100
    assert all(torch.allclose(plain[k], checkpointed[k], atol=1e-6) for k in plain)
