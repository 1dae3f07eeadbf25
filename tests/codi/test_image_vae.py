"""ImageVAE: parity with the reference autokl (through our key map), scaling, video folding, configs."""

import pytest
import torch
from diffusers import AutoencoderKL

from codi_studio.codi.autoencoders import ImageVAE, ImageVAEConfig, build_image_vae
from codi_studio.codi.autoencoders.keymaps import (
    image_vae_key_from_reference,
    image_vae_key_to_reference,
    image_vae_state_from_reference,
    image_vae_state_to_reference,
)
from autoencoder_fixtures import load_fixture

ATOL = 1e-4


def _config_from_fixture(meta: dict) -> ImageVAEConfig:
    dd = meta["kwargs"]["ddconfig"]
    return ImageVAEConfig(in_channels=dd["in_channels"], out_channels=dd["out_ch"],
                          latent_channels=meta["kwargs"]["embed_dim"],
                          block_out_channels=tuple(dd["ch"] * m for m in dd["ch_mult"]),
                          layers_per_block=dd["num_res_blocks"], sample_size=dd["resolution"])


@pytest.fixture(scope="module")
def autokl():
    meta, params, inputs, outputs = load_fixture("autokl")
    cfg = _config_from_fixture(meta)
    assert cfg == ImageVAEConfig.tiny()
    vae = ImageVAE(cfg).eval()
    reference = {"autokl." + k: v for k, v in params.items()}
    missing, unexpected = vae.load_state_dict(
        image_vae_state_from_reference(reference, num_levels=len(cfg.block_out_channels)), strict=True)
    assert not missing and not unexpected
    return vae, reference, inputs, outputs


def test_encode_matches_reference_posterior(autokl):
    vae, _, inputs, outputs = autokl
    with torch.no_grad():
        post = vae.posterior(inputs["image"])
    torch.testing.assert_close(post.mean, outputs["posterior_mean"], atol=ATOL, rtol=0)
    torch.testing.assert_close(post.logvar, outputs["posterior_logvar"], atol=ATOL, rtol=0)


def test_encode_scales_the_posterior_mean(autokl):
    vae, _, inputs, outputs = autokl
    with torch.no_grad():
        z = vae.encode(inputs["image"])
    torch.testing.assert_close(z, outputs["posterior_mean"] * 0.18215, atol=ATOL, rtol=0)


def test_decode_matches_reference(autokl):
    vae, _, inputs, outputs = autokl
    with torch.no_grad():
        x = vae.decode(inputs["z"] * vae.scaling_factor)
    torch.testing.assert_close(x, outputs["decoded"], atol=ATOL, rtol=0)


def test_sampled_encoding_is_reproducible_and_spread_by_the_posterior(autokl):
    vae, _, inputs, outputs = autokl
    with torch.no_grad():
        a = vae.encode(inputs["image"], sample=True, generator=torch.Generator().manual_seed(3))
        b = vae.encode(inputs["image"], sample=True, generator=torch.Generator().manual_seed(3))
        c = vae.encode(inputs["image"], sample=True, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    std = torch.exp(0.5 * outputs["posterior_logvar"]) * 0.18215
    residual = (a - outputs["posterior_mean"] * 0.18215) / std
    assert 0.8 < float(residual.std()) < 1.2


def test_video_frames_fold_into_the_batch(autokl):
    vae, _, inputs, _ = autokl
    frames = torch.stack([inputs["image"][0], -inputs["image"][0], inputs["image"][0].flip(-1)], dim=1)[None]
    with torch.no_grad():
        z_video = vae.encode(frames)
        z_each = torch.stack([vae.encode(frames[:, :, i]) for i in range(3)], dim=2)
        x_video = vae.decode(z_video)
        x_each = torch.stack([vae.decode(z_video[:, :, i]) for i in range(3)], dim=2)
    assert z_video.shape == (1, 4, 3, 16, 16)
    assert x_video.shape == (1, 3, 3, 32, 32)
    torch.testing.assert_close(z_video, z_each, atol=1e-5, rtol=0)
    torch.testing.assert_close(x_video, x_each, atol=1e-5, rtol=0)


def test_bad_input_rank_is_a_clear_error(autokl):
    vae = autokl[0]
    with pytest.raises(ValueError, match="shape"):
        vae.encode(torch.zeros(3, 32, 32))


def test_key_map_round_trips_and_matches_diffusers(autokl):
    vae, reference, _, _ = autokl
    back = image_vae_state_to_reference(vae.state_dict(), num_levels=2)
    assert set(back) == set(reference)
    for key, value in reference.items():
        torch.testing.assert_close(back[key], value, atol=0, rtol=0)
        assert image_vae_key_to_reference(image_vae_key_from_reference(key, 2), 2) == key
    # our names are diffusers AutoencoderKL names: its state dict loads unchanged
    kl = vae.to_diffusers()
    assert isinstance(kl, AutoencoderKL)
    assert set(kl.state_dict()) == set(vae.state_dict())


def test_decoder_level_order_is_reversed():
    # LDM counts decoder levels from the lowest resolution; diffusers from the latent
    assert image_vae_key_from_reference("autokl.decoder.up.3.block.2.conv1.weight") == \
        "decoder.up_blocks.0.resnets.2.conv1.weight"
    assert image_vae_key_from_reference("autokl.decoder.up.1.upsample.conv.bias") == \
        "decoder.up_blocks.2.upsamplers.0.conv.bias"
    assert image_vae_key_from_reference("autokl.encoder.mid.attn_1.proj_out.weight") == \
        "encoder.mid_block.attentions.0.to_out.0.weight"
    with pytest.raises(KeyError, match="not a reference"):
        image_vae_key_from_reference("encoder.conv_in.weight")
    with pytest.raises(KeyError, match="no diffusers name"):
        image_vae_key_from_reference("autokl.encoder.mystery.weight")


def test_config_round_trip_and_factory():
    cfg = ImageVAEConfig.tiny()
    assert ImageVAEConfig.from_dict(cfg.to_dict()) == cfg
    assert ImageVAEConfig.official().block_out_channels == (128, 256, 512, 512)
    assert ImageVAEConfig.official().downsample_factor == 8
    assert isinstance(build_image_vae(cfg.to_dict()), ImageVAE)
    with pytest.raises(ValueError, match="unknown keys"):
        ImageVAEConfig.from_dict({"block_out_chanels": [32]})
