"""ClapEncoder against the reference CLAP audio embedder (tiny HTSAT, fixture made by
tools/fixtures/make_encoder_fixtures.py), plus key maps against the full manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from codi_studio.codi.encoders import ClapEncoder, ClapEncoderConfig
from codi_studio.codi.encoders.audio_frontend import fit_length, resample
from codi_studio.codi.encoders.keymaps import (
    clap_key_from_reference,
    clap_key_to_reference,
    clap_state_dict_from_reference,
)

DATA = Path(__file__).resolve().parents[1] / "fixtures"
PARITY = DATA / "parity"
ATOL = 1e-4
# created by HTSAT on its first forward, so in a checkpoint saved after one (manifest groups.json)
LAZY = ["clap.model.audio_branch.spectrogram_extractor.stft.conv_real.weight",
        "clap.model.audio_branch.spectrogram_extractor.stft.conv_imag.weight",
        "clap.model.audio_branch.logmel_extractor.melW"]


@pytest.fixture(scope="module")
def fixture() -> tuple[dict, dict[str, torch.Tensor]]:
    meta = json.loads((PARITY / "clap_tiny.json").read_text())
    return meta, load_file(str(PARITY / "clap_tiny.safetensors"))


@pytest.fixture(scope="module")
def reference(fixture) -> dict[str, torch.Tensor]:
    return {k[len("param."):]: v for k, v in fixture[1].items() if k.startswith("param.")}


@pytest.fixture(scope="module")
def encoder(fixture, reference) -> ClapEncoder:
    meta, _ = fixture
    config = ClapEncoderConfig.tiny()
    assert {k: getattr(config, k) for k in meta["encoder_config"]} == {
        k: tuple(v) if isinstance(v, list) else v for k, v in meta["encoder_config"].items()}
    enc = ClapEncoder(config).eval()
    enc.load_state_dict(clap_state_dict_from_reference(reference), strict=True)
    return enc


def test_resample_and_repeat_pad_match_reference(encoder, fixture):
    _, t = fixture
    wave48 = encoder.frontend.waveform_48k(t["input.wave"][:1])
    torch.testing.assert_close(wave48, t["output.wave48_row0"], atol=1e-5, rtol=0)


def test_log_mel_matches_reference(encoder, fixture):
    _, t = fixture
    mel = encoder.frontend(t["input.wave"])
    assert mel.shape == (3, 1001, 64)
    # dB values up to 100 in magnitude; float32 FFT vs the reference's conv-DFT
    torch.testing.assert_close(mel, t["output.logmel"], atol=2e-3, rtol=1e-4)


def test_regenerated_mel_filters_equal_checkpoint_melw(encoder, reference):
    melw = reference["clap.model.audio_branch.logmel_extractor.melW"]
    torch.testing.assert_close(encoder.frontend.mel_filters, melw, atol=1e-6, rtol=1e-5)


@torch.no_grad()
def test_audio_embedding_matches_reference(encoder, fixture):
    _, t = fixture
    out = encoder.encode_audio(t["input.wave"])
    assert out.shape == (3, 1, 32)
    torch.testing.assert_close(out, t["output.embedding"], atol=ATOL, rtol=0)
    torch.testing.assert_close(encoder.encode_audio(t["input.wave10"]), t["output.embedding10"], atol=ATOL, rtol=0)


@torch.no_grad()
def test_embedding_depends_on_batch_norm_statistics(encoder, fixture):
    """bn0's running stats were set far from identity in the fixture: ignoring them breaks parity."""
    _, t = fixture
    bn = encoder.htsat.bn0
    saved = bn.running_mean.clone()
    try:
        bn.running_mean.zero_()
        assert (encoder.encode_audio(t["input.wave"]) - t["output.embedding"]).abs().max() > 100 * ATOL
    finally:
        bn.running_mean.copy_(saved)


@torch.no_grad()
def test_bfloat16_encoder_runs():
    enc = ClapEncoder(ClapEncoderConfig.tiny()).eval().to(torch.bfloat16)
    out = enc.encode_audio(torch.randn(1, 8000))
    assert out.shape == (1, 1, 32) and out.dtype == torch.bfloat16
    assert enc.frontend.mel_filters.dtype == torch.float32  # the front-end stays float32, as the reference's


@torch.no_grad()
def test_toy_config_geometry_runs():
    enc = ClapEncoder(ClapEncoderConfig.toy()).eval()
    assert enc.frontend(torch.zeros(2, 16000)).shape == (2, 101, 32)
    out = enc.encode_audio(torch.randn(2, 12000))
    assert out.shape == (2, 1, 32)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(2, 1))


def test_fit_length_crops_and_repeat_pads():
    wave = torch.arange(1.0, 4.0)
    assert fit_length(wave, 8).tolist() == [1, 2, 3, 1, 2, 3, 0, 0]
    assert fit_length(torch.arange(10.0), 4, crop_offset=3).tolist() == [3, 4, 5, 6]
    assert fit_length(torch.arange(10.0), 4, crop_offset=99).tolist() == [6, 7, 8, 9]
    with pytest.raises(ValueError, match="empty"):
        fit_length(torch.zeros(0), 4)


def test_resample_keeps_a_low_tone():
    t16 = torch.arange(1600) / 16000
    up = resample(torch.sin(2 * torch.pi * 500 * t16)[None], 16000, 48000)
    assert up.shape == (1, 4800)
    t48 = torch.arange(4800) / 48000
    torch.testing.assert_close(up[0, 200:-200], torch.sin(2 * torch.pi * 500 * t48)[200:-200], atol=2e-2, rtol=0)


def test_bad_waveform_is_a_clear_error(encoder):
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        encoder.encode_audio(torch.zeros(16000))


def test_config_round_trip_and_unknown_key():
    cfg = ClapEncoderConfig.official()
    assert ClapEncoderConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown config keys"):
        ClapEncoderConfig.from_dict({"depth": [2]})


def _manifest_clap() -> dict[str, dict]:
    manifest = json.loads((DATA / "manifest" / "codi_full.json").read_text())
    return {k: v for k, v in manifest.items() if k.startswith("clap.")}


def test_key_map_round_trips_every_manifest_key_and_drops_lazy_front_end():
    for key in _manifest_clap():
        assert clap_key_to_reference(clap_key_from_reference(key)) == key
    for key in LAZY:
        assert clap_key_from_reference(key) is None
    with pytest.raises(KeyError):
        clap_key_from_reference("clip.model.logit_scale")


def test_official_config_on_meta_matches_manifest():
    with torch.device("meta"):
        enc = ClapEncoder(ClapEncoderConfig.official())
    ours = {clap_key_to_reference(k): (list(v.shape), str(v.dtype).removeprefix("torch."))
            for k, v in enc.state_dict().items()}
    assert ours == {k: (v["shape"], v["dtype"]) for k, v in _manifest_clap().items()}


def test_official_size_forward_shape_on_meta():
    """HTSAT-large geometry: 1001 frames x 64 mels -> 256x256 image -> 4 stages -> 2048 -> 768."""
    with torch.device("meta"):
        enc = ClapEncoder(ClapEncoderConfig.official())
        assert enc.embed_log_mel(torch.empty(2, 1001, 64)).shape == (2, 1, 768)
    # the derived front-end tables are real even on a meta-built encoder (weights get loaded later)
    assert enc.frontend.mel_filters.device.type == "cpu" and enc.frontend.mel_filters.abs().sum() > 0
