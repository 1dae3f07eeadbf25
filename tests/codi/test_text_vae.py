"""TextVAE (Optimus): reference parity through the key map, latent injection, generation, clean-up."""

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from codi_studio.codi.autoencoders.configs import TextVAEConfig
from codi_studio.codi.autoencoders.keymaps import (
    text_vae_key_from_reference,
    text_vae_state_from_reference,
    text_vae_state_to_reference,
)
from codi_studio.codi.autoencoders.text_cleanup import merge_adjacent_repeats
from codi_studio.codi.autoencoders.text_vae import TextVAE, build_text_vae
from autoencoder_fixtures import load_fixture

WORDS = ["a", "dog", "cat", "runs", "sits", "in", "the", "park", "red", "blue", "ball", "."]


def _bert_like_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + WORDS + ["A", "Dog"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]")


def _gpt2_like_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {t: i for i, t in enumerate(["<PAD>", "<BOS>", "<EOS>", "<unk>"] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<PAD>", bos_token="<BOS>",
                                   eos_token="<EOS>", unk_token="<unk>")


@pytest.fixture(scope="module")
def optimus():
    _, params, inputs, outputs = load_fixture("optimus_tiny")
    vae = TextVAE(TextVAEConfig.tiny(), _bert_like_tokenizer(), _gpt2_like_tokenizer()).eval()
    reference = {"optimus." + k: v for k, v in params.items()}
    vae.load_state_dict(text_vae_state_from_reference(reference), strict=True)
    return vae, reference, inputs, outputs


def test_encoder_posterior_matches_reference(optimus):
    vae, _, inputs, outputs = optimus
    with torch.no_grad():
        mean, logvar = vae.posterior_from_ids(inputs["encoder_ids"].long())
    torch.testing.assert_close(mean, outputs["posterior_mean"], atol=1e-6, rtol=1e-4)
    torch.testing.assert_close(logvar, outputs["posterior_logvar"], atol=1e-6, rtol=1e-4)


def test_decoder_logits_match_reference(optimus):
    vae, _, inputs, outputs = optimus
    with torch.no_grad():
        logits = vae.logits(inputs["z"], inputs["decoder_ids"].long())
    torch.testing.assert_close(logits, outputs["logits"], atol=1e-5, rtol=1e-4)


def test_latent_reaches_the_decoder_through_both_paths(optimus):
    vae, _, inputs, _ = optimus
    ids, z = inputs["decoder_ids"].long(), inputs["z"]
    with torch.no_grad():
        base = vae.logits(z, ids)
        saved = vae.latent_to_embedding.weight.clone()
        vae.latent_to_embedding.weight.zero_()
        memory_only = vae.logits(z, ids)
        vae.latent_to_embedding.weight.copy_(saved)
        saved = vae.latent_to_memory.weight.clone()
        vae.latent_to_memory.weight.zero_()
        embedding_only = vae.logits(z, ids)
        vae.latent_to_memory.weight.copy_(saved)
    assert not torch.allclose(base, memory_only, atol=1e-6)
    assert not torch.allclose(base, embedding_only, atol=1e-6)


def test_key_map_round_trip_and_tied_head(optimus):
    vae, reference, _, _ = optimus
    back = text_vae_state_to_reference(vae.state_dict())
    causal_masks = {k for k in reference if k.endswith(".attn.bias")}
    assert set(back) == set(reference) - causal_masks
    for key, value in back.items():
        torch.testing.assert_close(value, reference[key], atol=0, rtol=0)
    assert text_vae_key_from_reference("optimus.decoder.lm_head.weight") is None
    untied = dict(reference)
    untied["optimus.decoder.lm_head.weight"] = reference["optimus.decoder.lm_head.weight"] + 1
    with pytest.raises(ValueError, match="lm_head"):
        text_vae_state_from_reference(untied)


def test_encode_lowercases_pads_and_scales(optimus):
    vae = optimus[0]
    with torch.no_grad():
        batch = vae.encode(["a dog runs in the park", "a cat"])
        alone = vae.encode(["a cat"])
        upper = vae.encode(["A Dog runs in the park"])
        ids, mask = vae.tokenize_for_encoder(["a cat"])
        mean, _ = vae.posterior_from_ids(ids, mask)
    assert batch.shape == (2, 16)
    torch.testing.assert_close(batch[1], alone[0], atol=1e-5, rtol=0)  # padding does not leak in
    torch.testing.assert_close(upper, batch[:1], atol=1e-6, rtol=0)  # CoDi lower-cases the prompt
    torch.testing.assert_close(alone, mean * 4.3108)
    assert ids[0].tolist() == [2, 4, 6, 3]  # [CLS] a cat [SEP]
    with pytest.raises(TypeError, match="list of str"):
        vae.encode("a cat")


def test_greedy_generation_follows_the_full_forward(optimus):
    vae, _, inputs, _ = optimus
    z = inputs["z"]
    ids = vae.generate_ids(z, max_length=8, temperature=0)
    bos, eos = 1, 2
    for row, generated in enumerate(ids):
        assert len(generated) <= 6  # max_length counts <BOS> and the closing <EOS>
        # re-run the whole prefix at once (no cache): each token is the argmax after its prefix
        prefix = [bos]
        with torch.no_grad():
            for token in generated:
                logits = vae.logits(z[row:row + 1], torch.tensor([prefix]))[0, -1]
                assert int(logits.argmax()) == token
                prefix.append(token)
            if len(generated) < 6:
                assert int(vae.logits(z[row:row + 1], torch.tensor([prefix]))[0, -1].argmax()) == eos


def test_sampling_is_reproducible_with_a_generator(optimus):
    vae, _, inputs, _ = optimus
    latent = inputs["z"] * vae.scaling_factor
    a = vae.decode(latent, max_length=10, generator=torch.Generator().manual_seed(5), merge_repeats=False)
    b = vae.decode(latent, max_length=10, generator=torch.Generator().manual_seed(5), merge_repeats=False)
    assert a == b and len(a) == 2
    for text in a:
        assert all(word in WORDS for word in text.split())
        assert "<BOS>" not in text and "<EOS>" not in text


def _decode_with_one_likely_token(vae, z, token_id, **kwargs):
    """Decode with the final layer norm pinned to a one-hot output, so that (through the tied head)
    only `token_id` scores."""
    ln_f, wte = vae.decoder.ln_f, vae.decoder.wte.weight
    saved = ln_f.weight.clone(), ln_f.bias.clone(), wte.clone()
    with torch.no_grad():
        ln_f.weight.zero_()
        ln_f.bias.zero_()
        ln_f.bias[0] = 1.0
        wte[:, 0] = 0.0
        wte[token_id, 0] = 30.0
        try:
            return vae.decode(z * vae.scaling_factor, temperature=0, **kwargs)
        finally:
            ln_f.weight.copy_(saved[0])
            ln_f.bias.copy_(saved[1])
            wte.copy_(saved[2])


def test_decode_respects_max_length_and_cleans_up_stutter(optimus):
    vae, _, inputs, _ = optimus
    z = inputs["z"][:1]
    raw = _decode_with_one_likely_token(vae, z, 4, max_length=6, merge_repeats=False)  # id 4 = "a"
    assert raw == ["a a a a"]  # 6 tokens: <BOS> + 4 + the forced <EOS>
    assert _decode_with_one_likely_token(vae, z, 4, max_length=6) == ["a"]


def test_decode_stops_at_eos(optimus):
    vae, _, inputs, _ = optimus
    assert _decode_with_one_likely_token(vae, inputs["z"][:1], 2, max_length=6) == [""]  # id 2 = <EOS>


@pytest.mark.parametrize("raw, cleaned", [
    ("a a dog dog running running", "a dog running"),
    ("a dog runs a dog runs in the park", "a dog runs in the park"),
    ("the cat the cat the cat sat", "the cat sat"),
    ("a dog. a dog.", "a dog."),
    ("hi, hi, there!", "hi, there!"),
    ("((x)) y y. y.", "(x) y."),
    ("red car, red car, blue.", "red car, blue."),
    ("", ""),
])
def test_merge_adjacent_repeats_as_codi(raw, cleaned):
    # expected values produced by the reference's merge + core/common/utils.py remove_duplicate_word
    assert merge_adjacent_repeats(raw) == cleaned


def test_config_round_trip_factory_and_missing_tokenizers():
    cfg = TextVAEConfig.tiny()
    assert TextVAEConfig.from_dict(cfg.to_dict()) == cfg
    vae = build_text_vae(cfg.to_dict())
    with pytest.raises(RuntimeError, match="tokenizer"):
        vae.encode(["a dog"])
    with pytest.raises(RuntimeError, match="tokenizer"):
        vae.decode(torch.zeros(1, 16))
    with pytest.raises(ValueError, match="divisible"):
        TextVAE(TextVAEConfig.tiny().__class__(**{**cfg.to_dict(), "decoder_heads": 3}))
