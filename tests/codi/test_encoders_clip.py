"""ClipEncoder against the reference FrozenCLIP (tiny config, fixture made by
tools/fixtures/make_encoder_fixtures.py), plus key maps against the full manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from codi_studio.codi.encoders import ClipEncoder, ClipEncoderConfig
from codi_studio.codi.encoders.clip_preprocess import pixels_from_signed, preprocess_image, preprocess_video
from codi_studio.codi.encoders.tokenizer import load_word_tokenizer, word_tokenizer
from codi_studio.codi.encoders.keymaps import (
    clip_key_from_reference,
    clip_key_to_reference,
    clip_state_dict_from_reference,
)

DATA = Path(__file__).resolve().parents[1] / "fixtures"
PARITY = DATA / "parity"
ATOL = 1e-4


def tiny_tokenizer():
    """Rebuilt from the fixture's word list (ids 1..61; 0 = [UNK], 62/63 = BOS/EOS)."""
    vocab = json.loads((PARITY / "clip_tiny_tokenizer.json").read_text())["model"]["vocab"]
    words = [w for w, i in sorted(vocab.items(), key=lambda kv: kv[1]) if 0 < i < 62]
    return word_tokenizer(words)


@pytest.fixture(scope="module")
def fixture() -> tuple[dict, dict[str, torch.Tensor]]:
    meta = json.loads((PARITY / "clip_tiny.json").read_text())
    return meta, load_file(str(PARITY / "clip_tiny.safetensors"))


@pytest.fixture(scope="module")
def encoder(fixture) -> ClipEncoder:
    meta, t = fixture
    torch.manual_seed(123)  # any init: every tensor is overwritten by the fixture
    enc = ClipEncoder(ClipEncoderConfig.from_dict(meta["encoder_config"]), tokenizer=tiny_tokenizer()).eval()
    reference = {k[len("param."):]: v for k, v in t.items() if k.startswith("param.")}
    enc.load_state_dict(clip_state_dict_from_reference(reference), strict=True)
    return enc


def test_tokenizer_matches_reference_ids(encoder, fixture):
    meta, t = fixture
    assert torch.equal(encoder.tokenize(meta["texts"]), t["input.input_ids"])
    saved = load_word_tokenizer(PARITY / "clip_tiny_tokenizer.json")
    assert saved(meta["texts"], padding="max_length", max_length=16, truncation=True,
                 return_tensors="pt")["input_ids"].equal(t["input.input_ids"])


def test_word_tokenizer_bad_input(tmp_path):
    with pytest.raises(ValueError, match="bad word"):
        word_tokenizer(["two words"])
    bad = tmp_path / "tok.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="tok.json"):
        load_word_tokenizer(bad)


@torch.no_grad()
def test_text_tower_hidden_states(encoder, fixture):
    _, t = fixture
    hidden = encoder.model.text_model(input_ids=t["input.input_ids"]).last_hidden_state
    torch.testing.assert_close(hidden, t["output.text_hidden"], atol=ATOL, rtol=0)


@torch.no_grad()
def test_text_condition_matches_reference(encoder, fixture):
    meta, t = fixture
    out = encoder.encode_text(meta["texts"])
    assert out.shape == (3, 1, 32)
    torch.testing.assert_close(out, t["output.text"], atol=ATOL, rtol=0)


def test_processor_pixels_match_reference(encoder, fixture):
    _, t = fixture
    pixels = pixels_from_signed(t["input.image"], encoder.config)
    torch.testing.assert_close(pixels, t["output.image_pixels"], atol=ATOL, rtol=0)


@torch.no_grad()
def test_image_condition_matches_reference(encoder, fixture):
    _, t = fixture
    out = encoder.encode_image(pixels_from_signed(t["input.image"], encoder.config))
    assert out.shape == (3, 1, 32)
    torch.testing.assert_close(out, t["output.image"], atol=ATOL, rtol=0)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(3, 1))


@torch.no_grad()
def test_video_condition_matches_reference(encoder, fixture):
    _, t = fixture
    frames = pixels_from_signed(t["input.video"], encoder.config)
    assert frames.shape == (2, 3, 3, 32, 32)
    out = encoder.encode_video(frames)
    torch.testing.assert_close(out, t["output.video"], atol=ATOL, rtol=0)


@torch.no_grad()
def test_uint8_image_chain_matches_reference(encoder, fixture):
    """uint8 frames -> regularize_image (no random crop/flip) -> processor -> encoder."""
    _, t = fixture
    out = encoder.encode_image(preprocess_image(t["input.image_u8"].numpy(), encoder.config))
    torch.testing.assert_close(out, t["output.image_u8"], atol=ATOL, rtol=0)


@torch.no_grad()
def test_uint8_video_chain_matches_reference(encoder, fixture):
    """uint8 frames -> regularize_video (centre crop, bicubic 256) -> processor -> temporal encoder."""
    _, t = fixture
    out = encoder.encode_video(preprocess_video(t["input.video_u8"].numpy(), encoder.config))
    torch.testing.assert_close(out, t["output.video_u8"], atol=ATOL, rtol=0)


@torch.no_grad()
def test_video_output_depends_on_temporal_layers(encoder, fixture):
    """The fixture is sensitive to the temporal blocks: silencing them moves the output far past tolerance."""
    _, t = fixture
    frames = pixels_from_signed(t["input.video"], encoder.config)
    saved = {n: p.clone() for n, p in encoder.temporal.named_parameters()}
    try:
        for block in encoder.temporal:
            block.to_out.weight.zero_()
            block.ff_out.weight.zero_()
        assert (encoder.encode_video(frames) - t["output.video"]).abs().max() > 100 * ATOL
    finally:
        for n, p in encoder.temporal.named_parameters():
            p.copy_(saved[n])


@torch.no_grad()
def test_bfloat16_video_and_text_run(fixture):
    _, t = fixture
    enc = ClipEncoder(ClipEncoderConfig.tiny(), tokenizer=tiny_tokenizer()).eval().to(torch.bfloat16)
    frames = pixels_from_signed(t["input.video"], enc.config)
    assert enc.encode_video(frames).dtype == torch.bfloat16
    assert enc.encode_text(["a red ball"]).shape == (1, 1, 32)


def test_encode_text_without_tokenizer_is_a_clear_error():
    enc = ClipEncoder(ClipEncoderConfig.tiny())
    with pytest.raises(ValueError, match="tokenizer"):
        enc.encode_text(["a ball"])


def test_wrong_pixel_shape_is_a_clear_error(encoder):
    with pytest.raises(ValueError, match=r"\(B,3,S,S\)"):
        encoder.encode_image(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"\(B,F,3,S,S\)"):
        encoder.encode_video(torch.zeros(1, 3, 32, 32))


def test_preprocess_uint8_frames():
    cfg = ClipEncoderConfig.tiny()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    px = preprocess_image(image, cfg)
    assert px.shape == (1, 3, 32, 32) and px.dtype == torch.float32
    video = rng.integers(0, 256, (2, 4, 30, 20, 3), dtype=np.uint8)
    assert preprocess_video(video, cfg).shape == (2, 4, 3, 32, 32)
    # a flat grey image normalises to (grey - mean) / std in every pixel
    grey = np.full((50, 50, 3), 128, np.uint8)
    want = (torch.tensor([128 / 255.0] * 3) - torch.tensor(cfg.image_mean)) / torch.tensor(cfg.image_std)
    got = preprocess_image(grey, cfg)[0, :, 10, 10]
    torch.testing.assert_close(got, want, atol=2 / 255 / 0.26, rtol=0)
    with pytest.raises(ValueError, match="uint8"):
        preprocess_image(image.astype(np.float32), cfg)


def test_config_round_trip_and_unknown_key():
    cfg = ClipEncoderConfig.tiny()
    assert ClipEncoderConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown config keys"):
        ClipEncoderConfig.from_dict({"vocab_sise": 3})


def _manifest_clip() -> dict[str, dict]:
    manifest = json.loads((DATA / "manifest" / "codi_full.json").read_text())
    return {k: v for k, v in manifest.items() if k.startswith("clip.")}


def test_key_map_round_trips_every_manifest_key():
    for key in _manifest_clip():
        ours = clip_key_from_reference(key)
        if ours is None:
            assert key.endswith("embeddings.position_ids")
        else:
            assert clip_key_to_reference(ours) == key
    with pytest.raises(KeyError):
        clip_key_from_reference("clap.model.audio_branch.bn0.weight")


@pytest.fixture(scope="module")
def official_on_meta() -> ClipEncoder:
    with torch.device("meta"):
        return ClipEncoder(ClipEncoderConfig.official())


def test_official_config_on_meta_matches_manifest(official_on_meta):
    manifest = _manifest_clip()
    enc = official_on_meta
    ours = {clip_key_to_reference(k): (list(v.shape), str(v.dtype).removeprefix("torch."))
            for k, v in enc.state_dict().items()}
    expected = {k: (v["shape"], v["dtype"]) for k, v in manifest.items() if clip_key_from_reference(k) is not None}
    assert ours == expected
    assert len(manifest) - len(expected) == 2  # the two position_ids buffers, regenerated


def test_official_size_forward_shapes_on_meta(official_on_meta):
    """ViT-L/14 + temporal layers: shapes through the whole text, image and 8-frame video paths."""
    enc = official_on_meta
    with torch.device("meta"):
        ids = torch.zeros(2, 77, dtype=torch.long)
        assert enc.encode_tokens(ids).shape == (2, 1, 768)
        assert enc.encode_image(torch.empty(2, 3, 224, 224)).shape == (2, 1, 768)
        assert enc.encode_video(torch.empty(1, 8, 3, 224, 224)).shape == (1, 1, 768)
