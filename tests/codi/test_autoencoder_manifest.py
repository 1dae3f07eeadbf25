"""Official-size autoencoders built on the meta device hold exactly the reference checkpoint's
tensors (names through our key maps, shapes equal), per the manifest of the released CoDi."""

import re

import pytest
import torch

from codi_studio.codi.autoencoders import (
    AudioVAE,
    AudioVAEConfig,
    HifiGanConfig,
    HifiGanVocoder,
    ImageVAE,
    ImageVAEConfig,
    TextVAE,
    TextVAEConfig,
)
from codi_studio.codi.autoencoders.keymaps import (
    DERIVED_REFERENCE_ENTRIES,
    audio_vae_key_from_reference,
    image_vae_key_from_reference,
    text_vae_key_from_reference,
    vae_value_from_reference,
    vocoder_key_from_reference,
)
from autoencoder_fixtures import load_manifest


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


def _tensors(module: torch.nn.Module) -> dict[str, list[int]]:
    """Parameters and all buffers (derived, non-persistent ones included) with their shapes."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(dict(module.named_buffers(remove_duplicate=False)))
    return {k: list(v.shape) for k, v in named.items()}


def _check(manifest, prefix, key_map, ours, allowed_extra=(), reshape=None):
    mapped = {}
    dropped = []
    for key, entry in manifest.items():
        if not key.startswith(prefix):
            continue
        name = key_map(key)
        if name is None:
            rest = key.split(".", 1)[1]
            assert any(re.fullmatch(p, rest) for p in DERIVED_REFERENCE_ENTRIES), key
            dropped.append(key)
            continue
        assert name not in mapped, f"two reference keys map to {name}"
        shape = entry["shape"]
        if reshape is not None:
            shape = list(reshape(name, torch.empty(shape, device="meta")).shape)
        mapped[name] = shape
    assert mapped, prefix
    for name, shape in mapped.items():
        assert name in ours, f"{name} (from the reference) is missing on our side"
        assert ours[name] == shape, f"{name}: ours {ours[name]} vs reference {shape}"
    extra = set(ours) - set(mapped) - set(allowed_extra)
    assert not extra, f"tensors with no reference counterpart: {sorted(extra)[:5]}"
    return dropped


def test_image_vae_is_autokl(manifest):
    with torch.device("meta"):
        vae = ImageVAE(ImageVAEConfig.official())
    dropped = _check(manifest, "autokl.", image_vae_key_from_reference, _tensors(vae),
                     reshape=vae_value_from_reference)
    assert not dropped
    assert sum(v.numel() for v in vae.state_dict().values()) == 83_653_863


def test_audio_vae_is_audioldm_without_vocoder(manifest):
    with torch.device("meta"):
        vae = AudioVAE(AudioVAEConfig.official())
    vae_keys = {k: v for k, v in manifest.items() if not k.startswith("audioldm.vocoder.")}
    ours = _tensors(vae)
    dropped = _check(vae_keys, "audioldm.", audio_vae_key_from_reference, ours, allowed_extra={"mel.window", "mel.mel_basis"},
                     reshape=vae_value_from_reference)
    # STFT bases are replaced by torch.stft; the mel filterbank is rebuilt (same shape)
    assert sorted(dropped) == ["audioldm.fn_STFT.mel_basis", "audioldm.fn_STFT.stft_fn.forward_basis",
                               "audioldm.fn_STFT.stft_fn.inverse_basis"]
    assert ours["mel.mel_basis"] == manifest["audioldm.fn_STFT.mel_basis"]["shape"]


def test_vocoder_is_audioldm_hifigan(manifest):
    with torch.device("meta"):
        vocoder = HifiGanVocoder(HifiGanConfig.official())
    _check(manifest, "audioldm.vocoder.", vocoder_key_from_reference, _tensors(vocoder),
           allowed_extra={"mean", "scale"})  # SpeechT5HifiGan's normalisation, unused (identity)


def test_text_vae_is_optimus(manifest):
    with torch.device("meta"):
        vae = TextVAE(TextVAEConfig.official())
    ours = _tensors(vae)
    # BertModel's non-persistent position_ids / token_type_ids buffers are rebuilt, never stored
    derived = {k for k in ours if k.startswith("encoder.embeddings.") and k.endswith("_ids")}
    dropped = _check(manifest, "optimus.", text_vae_key_from_reference, ours, allowed_extra=derived)
    assert len(dropped) == 12 + 1  # 12 causal masks + the tied lm_head
    assert manifest["optimus.decoder.lm_head.weight"]["shape"] == ours["decoder.wte.weight"]
