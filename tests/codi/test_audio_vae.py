"""AudioVAE + vocoders: reference parity (audioldm_decode, hifigan_tiny), the mel front end, configs."""

import numpy as np
import pytest
import torch

from codi_studio.codi.autoencoders import (
    AudioVAE,
    AudioVAEConfig,
    GriffinLimConfig,
    GriffinLimVocoder,
    HifiGanConfig,
    HifiGanVocoder,
    MelConfig,
    build_audio_vae,
    build_vocoder,
    vocoder_config_from_dict,
)
from codi_studio.codi.autoencoders.keymaps import (
    audio_vae_key_from_reference,
    audio_vae_state_from_reference,
    audio_vae_state_to_reference,
    fold_weight_norm,
    vocoder_state_from_reference,
    vocoder_state_to_reference,
)
from autoencoder_fixtures import load_fixture

ATOL = 1e-4


@pytest.fixture(scope="module")
def tiny_audio_vae():
    meta, params, inputs, outputs = load_fixture("audioldm_decode")
    dd = meta["kwargs"]["ddconfig"]
    cfg = AudioVAEConfig(latent_channels=meta["kwargs"]["embed_dim"],
                         block_out_channels=tuple(dd["ch"] * m for m in dd["ch_mult"]),
                         layers_per_block=dd["num_res_blocks"])
    assert cfg == AudioVAEConfig.tiny()
    vae = AudioVAE(cfg).eval()
    reference = {"audioldm." + k: v for k, v in params.items()}
    state = audio_vae_state_from_reference(reference, num_levels=2)
    missing, unexpected = vae.load_state_dict(state, strict=False)
    assert not unexpected
    # the fixture stores only the decoder side
    assert missing and all(k.startswith(("encoder.", "quant_conv.")) for k in missing)
    return vae, reference, inputs, outputs


def test_encode_matches_reference_posterior():
    # the whole encode path: wav_to_fbank (normalise, pad/cut, log-mel) -> Encoder -> quant_conv
    _, params, inputs, outputs = load_fixture("audioldm_encode")
    vae = AudioVAE(AudioVAEConfig.tiny()).eval()
    state = audio_vae_state_from_reference({"audioldm." + k: v for k, v in params.items()}, num_levels=2)
    missing, unexpected = vae.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith(("decoder.", "post_quant_conv.")) for k in missing)
    with torch.no_grad():
        post = vae.posterior(vae.wave_to_mel(inputs["wave"], seconds=0.5))
        z = vae.encode(inputs["wave"], seconds=0.5)
    torch.testing.assert_close(post.mean, outputs["posterior_mean"], atol=ATOL, rtol=0)
    torch.testing.assert_close(post.logvar, outputs["posterior_logvar"], atol=ATOL, rtol=0)
    torch.testing.assert_close(z, outputs["posterior_mean"] * 0.9228, atol=ATOL, rtol=0)


def test_decode_matches_reference(tiny_audio_vae):
    vae, _, inputs, outputs = tiny_audio_vae
    with torch.no_grad():
        mel = vae.decode(inputs["z"] * vae.scaling_factor)
    torch.testing.assert_close(mel, outputs["mel"], atol=ATOL, rtol=0)


def test_decode_clips_runaway_latents(tiny_audio_vae):
    vae, _, inputs, _ = tiny_audio_vae
    z = inputs["z"] * vae.scaling_factor
    wild = z.clone()
    wild[0, 0, 0, 0] = 500.0
    with torch.no_grad():
        got = vae.decode(wild)
        expected = vae.decode(wild.clamp(-10, 10))
        untouched = vae.decode(z * 5)  # max |z| stays under 100: no clipping
        manual = vae.decoder(vae.post_quant_conv(z * 5 / vae.scaling_factor))
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(untouched, manual)


def test_vae_key_map_round_trip(tiny_audio_vae):
    vae, reference, _, _ = tiny_audio_vae
    back = audio_vae_state_to_reference(vae.state_dict(), num_levels=2)
    for key, value in reference.items():
        torch.testing.assert_close(back[key], value, atol=0, rtol=0)
    assert audio_vae_key_from_reference("audioldm.fn_STFT.mel_basis") is None
    with pytest.raises(KeyError, match="vocoder"):
        audio_vae_key_from_reference("audioldm.vocoder.conv_pre.weight")


def test_encode_shapes_and_determinism(tiny_audio_vae):
    vae = tiny_audio_vae[0]
    wave = torch.randn(2, 16000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        z = vae.encode(wave, seconds=0.5)  # int(0.5*102.4) = 51 mel frames
        z2 = vae.encode(wave, seconds=0.5)
        mel = vae.wave_to_mel(wave)  # defaults to the clip's own length: 102 frames
    assert z.shape == (2, 8, 25, 32)  # one stride-2 level: 51 frames -> 25, 64 mels -> 32
    torch.testing.assert_close(z, z2)
    assert mel.shape == (2, 1, 102, 64)


# ------------------------------------------------------------------ vocoders
@pytest.fixture(scope="module")
def tiny_hifigan():
    meta, params, inputs, outputs = load_fixture("hifigan_tiny")
    h = meta["kwargs"]["h"]
    cfg = HifiGanConfig(model_in_dim=h["num_mels"], upsample_initial_channel=h["upsample_initial_channel"],
                        upsample_rates=tuple(h["upsample_rates"]),
                        upsample_kernel_sizes=tuple(h["upsample_kernel_sizes"]),
                        resblock_kernel_sizes=tuple(h["resblock_kernel_sizes"]),
                        resblock_dilation_sizes=tuple(tuple(d) for d in h["resblock_dilation_sizes"]))
    assert cfg == HifiGanConfig.tiny()
    vocoder = HifiGanVocoder(cfg).eval()
    reference = {"audioldm.vocoder." + k: v for k, v in params.items()}
    vocoder.load_state_dict(vocoder_state_from_reference(reference), strict=True)
    return vocoder, reference, inputs, outputs


def test_hifigan_matches_reference(tiny_hifigan):
    vocoder, _, inputs, outputs = tiny_hifigan
    with torch.no_grad():
        wave = vocoder.vocode(inputs["mel"].transpose(1, 2)[:, None])  # (B,1,T,n_mels) like the VAE's mel
    assert wave.shape == (1, 40)
    torch.testing.assert_close(wave, outputs["wav"][:, 0], atol=ATOL, rtol=0)


def test_hifigan_key_map_round_trip(tiny_hifigan):
    vocoder, reference, _, _ = tiny_hifigan
    back = vocoder_state_to_reference(vocoder.state_dict())
    assert set(back) == set(reference)


def test_weight_norm_folding_matches_torch():
    conv = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(8, 16, 7))
    state = {"c." + k: v.detach() for k, v in conv.state_dict().items()}
    assert "c.parametrizations.weight.original0" in state
    folded = fold_weight_norm(state)
    torch.nn.utils.parametrize.remove_parametrizations(conv, "weight")
    torch.testing.assert_close(folded["c.weight"], conv.weight.detach())
    assert set(folded) == {"c.weight", "c.bias"}
    # the older weight_g / weight_v layout folds the same way
    old_layout = {"c.weight_g": state["c.parametrizations.weight.original0"],
                  "c.weight_v": state["c.parametrizations.weight.original1"], "c.bias": state["c.bias"]}
    torch.testing.assert_close(fold_weight_norm(old_layout)["c.weight"], conv.weight.detach())
    with pytest.raises(KeyError, match="no matching"):
        fold_weight_norm({"c.weight_g": state["c.parametrizations.weight.original0"]})


def test_griffin_lim_is_parameter_free_and_recovers_a_tone():
    mel_cfg = MelConfig()
    vocoder = build_vocoder({"type": "griffin_lim", "n_iter": 16})
    assert isinstance(vocoder, GriffinLimVocoder)
    assert len(vocoder.state_dict()) == 0
    t = torch.arange(16000) / 16000
    tone = 0.4 * torch.sin(2 * torch.pi * 440 * t)
    vae = AudioVAE(AudioVAEConfig.tiny())
    mel = vae.wave_to_mel(tone[None])
    wave = vocoder.vocode(mel)
    assert wave.shape == (1, mel.shape[2] * mel_cfg.hop_length)
    assert float(wave.abs().max()) <= 1.0
    spectrum = np.abs(np.fft.rfft(wave[0, 2000:14000].numpy()))
    peak_hz = np.argmax(spectrum) * 16000 / 12000
    assert abs(peak_hz - 440) < 20
    torch.testing.assert_close(vocoder.vocode(mel), wave)  # fixed seed: deterministic


def test_audio_vae_vocodes_through_an_attached_vocoder():
    vae = AudioVAE(AudioVAEConfig.tiny())
    with pytest.raises(RuntimeError, match="no vocoder"):
        vae.vocode(torch.zeros(1, 1, 8, 64))
    vae.attach_vocoder(GriffinLimVocoder(GriffinLimConfig(n_iter=2)))
    with torch.no_grad():
        wave = vae.decode_to_wave(torch.zeros(1, 8, 4, 32))
    assert wave.shape == (1, 8 * 160)


def test_configs_round_trip():
    for cfg in (AudioVAEConfig.tiny(), AudioVAEConfig.official()):
        assert AudioVAEConfig.from_dict(cfg.to_dict()) == cfg
    for cfg in (HifiGanConfig.tiny(), HifiGanConfig.official(), GriffinLimConfig(n_iter=4)):
        assert vocoder_config_from_dict(cfg.to_dict()) == cfg
    assert HifiGanConfig.official().hop_length == 160
    assert isinstance(build_audio_vae(AudioVAEConfig.tiny().to_dict()), AudioVAE)
    with pytest.raises(ValueError, match="griffin_lim"):
        vocoder_config_from_dict({"type": "wavenet"})
    with pytest.raises(ValueError, match="unknown keys"):
        AudioVAEConfig.from_dict({"mel": {"n_mel": 80}})
