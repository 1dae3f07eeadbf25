"""Parameter-name maps between the CoDi reference checkpoint and our autoencoder classes.

Reference names are the full keys of the released state dict (`autokl.*`, `audioldm.*`,
`optimus.*`, see the manifest codi_full.json). Our names are those of ImageVAE / AudioVAE /
HifiGanVocoder / TextVAE state dicts (diffusers / transformers layouts).

Per-key functions return None for a reference entry that has no stored counterpart on our side
(it is rebuilt from config, or tied to another weight): see `DERIVED_REFERENCE_ENTRIES`.
`*_state_from_reference(state)` converts a whole (sub-)state dict, reshaping the VAE attention
1x1 convolutions to linear weights.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from codi_studio.codi.autoencoders.configs import MelConfig
from codi_studio.codi.autoencoders.mel import slaney_mel_filterbank

# Reference entries we do not store, and why. Matched against the key after its prefix.
DERIVED_REFERENCE_ENTRIES: dict[str, str] = {
    r"fn_STFT\.stft_fn\.(forward|inverse)_basis": "STFT bases: torch.stft is used instead",
    r"fn_STFT\.mel_basis": "mel filterbank: rebuilt from the mel config (see mel_basis_difference)",
    r"decoder\.transformer\.h\.\d+\.attn\.bias": "GPT-2 causal mask buffer",
    r"decoder\.lm_head\.weight": "tied to decoder.transformer.wte.weight",
}

IMAGE_PREFIX = "autokl."
AUDIO_PREFIX = "audioldm."
VOCODER_PREFIX = "audioldm.vocoder."
TEXT_PREFIX = "optimus."


def _strip(key: str, prefix: str) -> str:
    if not key.startswith(prefix):
        raise KeyError(f"{key!r} is not a reference {prefix}* key")
    return key[len(prefix):]


def _is_derived(rest: str) -> bool:
    return any(re.fullmatch(p, rest) for p in DERIVED_REFERENCE_ENTRIES)


# --------------------------------------------------------------------------- LDM VAE <-> diffusers
_RESNET_PARTS = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2",
                 "nin_shortcut": "conv_shortcut"}
_ATTN_PARTS = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}


def _ldm_vae_to_diffusers(rest: str, num_levels: int) -> str:
    """LDM Encoder/Decoder names (taming / latent-diffusion layout) -> diffusers AutoencoderKL names."""
    if rest.split(".")[0] in ("quant_conv", "post_quant_conv"):
        return rest
    m = re.fullmatch(r"(encoder|decoder)\.(conv_in|conv_out|norm_out)\.(weight|bias)", rest)
    if m:
        part = "conv_norm_out" if m[2] == "norm_out" else m[2]
        return f"{m[1]}.{part}.{m[3]}"
    m = re.fullmatch(r"(encoder|decoder)\.mid\.block_([12])\.(\w+)\.(weight|bias)", rest)
    if m and m[3] in _RESNET_PARTS:
        return f"{m[1]}.mid_block.resnets.{int(m[2]) - 1}.{_RESNET_PARTS[m[3]]}.{m[4]}"
    m = re.fullmatch(r"(encoder|decoder)\.mid\.attn_1\.(\w+)\.(weight|bias)", rest)
    if m and m[2] in _ATTN_PARTS:
        return f"{m[1]}.mid_block.attentions.0.{_ATTN_PARTS[m[2]]}.{m[3]}"
    m = re.fullmatch(r"encoder\.down\.(\d+)\.block\.(\d+)\.(\w+)\.(weight|bias)", rest)
    if m and m[3] in _RESNET_PARTS:
        return f"encoder.down_blocks.{m[1]}.resnets.{m[2]}.{_RESNET_PARTS[m[3]]}.{m[4]}"
    m = re.fullmatch(r"encoder\.down\.(\d+)\.downsample\.conv\.(weight|bias)", rest)
    if m:
        return f"encoder.down_blocks.{m[1]}.downsamplers.0.conv.{m[2]}"
    # the LDM decoder counts levels from the lowest resolution up; diffusers from the latent down
    m = re.fullmatch(r"decoder\.up\.(\d+)\.block\.(\d+)\.(\w+)\.(weight|bias)", rest)
    if m and m[3] in _RESNET_PARTS:
        return f"decoder.up_blocks.{num_levels - 1 - int(m[1])}.resnets.{m[2]}.{_RESNET_PARTS[m[3]]}.{m[4]}"
    m = re.fullmatch(r"decoder\.up\.(\d+)\.upsample\.conv\.(weight|bias)", rest)
    if m:
        return f"decoder.up_blocks.{num_levels - 1 - int(m[1])}.upsamplers.0.conv.{m[2]}"
    raise KeyError(f"no diffusers name for LDM VAE entry {rest!r}")


_RESNET_BACK = {v: k for k, v in _RESNET_PARTS.items()}
_ATTN_BACK = {v: k for k, v in _ATTN_PARTS.items()}


def _diffusers_vae_to_ldm(name: str, num_levels: int) -> str:
    if name.split(".")[0] in ("quant_conv", "post_quant_conv"):
        return name
    m = re.fullmatch(r"(encoder|decoder)\.(conv_in|conv_out|conv_norm_out)\.(weight|bias)", name)
    if m:
        part = "norm_out" if m[2] == "conv_norm_out" else m[2]
        return f"{m[1]}.{part}.{m[3]}"
    m = re.fullmatch(r"(encoder|decoder)\.mid_block\.resnets\.([01])\.(\w+)\.(weight|bias)", name)
    if m and m[3] in _RESNET_BACK:
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{_RESNET_BACK[m[3]]}.{m[4]}"
    m = re.fullmatch(r"(encoder|decoder)\.mid_block\.attentions\.0\.([\w.]+)\.(weight|bias)", name)
    if m and m[2] in _ATTN_BACK:
        return f"{m[1]}.mid.attn_1.{_ATTN_BACK[m[2]]}.{m[3]}"
    m = re.fullmatch(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)\.(weight|bias)", name)
    if m and m[3] in _RESNET_BACK:
        return f"encoder.down.{m[1]}.block.{m[2]}.{_RESNET_BACK[m[3]]}.{m[4]}"
    m = re.fullmatch(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(weight|bias)", name)
    if m:
        return f"encoder.down.{m[1]}.downsample.conv.{m[2]}"
    m = re.fullmatch(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)\.(weight|bias)", name)
    if m and m[3] in _RESNET_BACK:
        return f"decoder.up.{num_levels - 1 - int(m[1])}.block.{m[2]}.{_RESNET_BACK[m[3]]}.{m[4]}"
    m = re.fullmatch(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(weight|bias)", name)
    if m:
        return f"decoder.up.{num_levels - 1 - int(m[1])}.upsample.conv.{m[2]}"
    raise KeyError(f"no LDM name for diffusers VAE entry {name!r}")


def _is_vae_attention_weight(name: str) -> bool:
    return bool(re.search(r"mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$", name))


def vae_value_from_reference(name: str, value: torch.Tensor) -> torch.Tensor:
    """The reference tensor reshaped for our (diffusers) name: mid-block attention 1x1 convs -> linear."""
    if _is_vae_attention_weight(name) and value.ndim == 4:
        return value[:, :, 0, 0]
    return value


def _vae_state_from_reference(state: Mapping[str, torch.Tensor], prefix: str, num_levels: int,
                              skip: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith(prefix) or key.startswith(skip):
            continue
        rest = key[len(prefix):]
        if _is_derived(rest):
            continue
        name = _ldm_vae_to_diffusers(rest, num_levels)
        out[name] = vae_value_from_reference(name, value)
    return out


def _vae_state_to_reference(state: Mapping[str, torch.Tensor], prefix: str,
                            num_levels: int) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        if name.startswith("mel."):
            continue
        if _is_vae_attention_weight(name) and value.ndim == 2:
            value = value[:, :, None, None]
        out[prefix + _diffusers_vae_to_ldm(name, num_levels)] = value
    return out


# --------------------------------------------------------------------------- image VAE (autokl)
def image_vae_key_from_reference(key: str, num_levels: int = 4) -> str:
    """`autokl.encoder.down.0.block.0.conv1.weight` -> `encoder.down_blocks.0.resnets.0.conv1.weight`."""
    return _ldm_vae_to_diffusers(_strip(key, IMAGE_PREFIX), num_levels)


def image_vae_key_to_reference(name: str, num_levels: int = 4) -> str:
    return IMAGE_PREFIX + _diffusers_vae_to_ldm(name, num_levels)


def image_vae_state_from_reference(state: Mapping[str, torch.Tensor],
                                   num_levels: int = 4) -> dict[str, torch.Tensor]:
    """All `autokl.*` entries of `state`, renamed and reshaped for ImageVAE.load_state_dict."""
    return _vae_state_from_reference(state, IMAGE_PREFIX, num_levels)


def image_vae_state_to_reference(state: Mapping[str, torch.Tensor],
                                 num_levels: int = 4) -> dict[str, torch.Tensor]:
    return _vae_state_to_reference(state, IMAGE_PREFIX, num_levels)


# --------------------------------------------------------------------------- audio VAE (audioldm)
def audio_vae_key_from_reference(key: str, num_levels: int = 3) -> str | None:
    """`audioldm.{encoder,decoder,quant_conv,post_quant_conv}.*` -> AudioVAE names.

    `audioldm.fn_STFT.*` returns None (rebuilt from the mel config); vocoder keys are rejected
    (use `vocoder_key_from_reference`).
    """
    rest = _strip(key, AUDIO_PREFIX)
    if rest.startswith("vocoder."):
        raise KeyError(f"{key!r} belongs to the vocoder: use vocoder_key_from_reference")
    if _is_derived(rest):
        return None
    return _ldm_vae_to_diffusers(rest, num_levels)


def audio_vae_key_to_reference(name: str, num_levels: int = 3) -> str:
    return AUDIO_PREFIX + _diffusers_vae_to_ldm(name, num_levels)


def audio_vae_state_from_reference(state: Mapping[str, torch.Tensor],
                                   num_levels: int = 3) -> dict[str, torch.Tensor]:
    """All `audioldm.*` VAE entries (no vocoder, no fn_STFT), ready for AudioVAE.load_state_dict."""
    return _vae_state_from_reference(state, AUDIO_PREFIX, num_levels, skip=(VOCODER_PREFIX,))


def audio_vae_state_to_reference(state: Mapping[str, torch.Tensor],
                                 num_levels: int = 3) -> dict[str, torch.Tensor]:
    return _vae_state_to_reference(state, AUDIO_PREFIX, num_levels)


def reference_mel_basis(state: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    """The checkpoint's stored mel filterbank, if it has one."""
    return state.get(AUDIO_PREFIX + "fn_STFT.mel_basis")


def mel_basis_difference(state: Mapping[str, torch.Tensor], mel_config: MelConfig | None = None) -> float | None:
    """Largest |difference| between the checkpoint's mel filterbank and the one our front end builds
    (None if the checkpoint has none). An importer can warn when it is not ~0: the checkpoint's
    front end would then differ from ours."""
    stored = reference_mel_basis(state)
    if stored is None:
        return None
    c = mel_config or MelConfig()
    ours = torch.from_numpy(slaney_mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax))
    if tuple(stored.shape) != tuple(ours.shape):
        return float("inf")
    return float((stored.float() - ours).abs().max())


# --------------------------------------------------------------------------- vocoder (HiFi-GAN)
def vocoder_key_from_reference(key: str) -> str:
    """`audioldm.vocoder.ups.3.weight` -> `upsampler.3.weight` (transformers SpeechT5HifiGan).

    The reference stores plain weights (its get_vocoder already ran remove_weight_norm).
    """
    rest = _strip(key, VOCODER_PREFIX)
    if re.fullmatch(r"ups\.\d+\.(weight|bias)", rest):
        return "upsampler." + rest[len("ups."):]
    if re.fullmatch(r"(conv_pre|conv_post)\.(weight|bias)", rest) or \
            re.fullmatch(r"resblocks\.\d+\.convs[12]\.\d+\.(weight|bias)", rest):
        return rest
    if re.search(r"\.weight_[gv]$", rest):
        raise KeyError(f"{key!r} is weight-normed: fold it first with fold_weight_norm()")
    raise KeyError(f"no SpeechT5HifiGan name for vocoder entry {key!r}")


def vocoder_key_to_reference(name: str) -> str | None:
    """None for SpeechT5HifiGan's `mean` / `scale` buffers (unused: normalize_before is false)."""
    if name in ("mean", "scale"):
        return None
    if name.startswith("upsampler."):
        return VOCODER_PREFIX + "ups." + name[len("upsampler."):]
    return VOCODER_PREFIX + name


_WEIGHT_NORM_PAIRS = ((".weight_g", ".weight_v"),  # torch.nn.utils.weight_norm
                      (".parametrizations.weight.original0", ".parametrizations.weight.original1"))  # parametrize


def fold_weight_norm(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace weight-normed (g, v) pairs by `X.weight` = g * v / ||v|| (norm over all dims but 0), as
    remove_weight_norm does, for checkpoints saved before weight norm was removed. Both torch layouts
    (`weight_g`/`weight_v` and `parametrizations.weight.original0/1`) are understood."""
    suffixes = tuple(s for pair in _WEIGHT_NORM_PAIRS for s in pair)
    out = {k: v for k, v in state.items() if not k.endswith(suffixes)}
    for key in state:
        for g_suffix, v_suffix in _WEIGHT_NORM_PAIRS:
            if key.endswith(g_suffix):
                base = key[: -len(g_suffix)]
                if base + v_suffix not in state:
                    raise KeyError(f"{key!r} has no matching {base + v_suffix!r}")
                g, v = state[key], state[base + v_suffix]
                norm = v.flatten(1).norm(dim=1).reshape(-1, *([1] * (v.ndim - 1)))
                out[base + ".weight"] = g * v / norm
    return out


def vocoder_state_from_reference(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """All `audioldm.vocoder.*` entries renamed for HifiGanVocoder (mean/scale set to identity)."""
    sub = fold_weight_norm({k: v for k, v in state.items() if k.startswith(VOCODER_PREFIX)})
    out = {vocoder_key_from_reference(k): v for k, v in sub.items()}
    n_mels = out["conv_pre.weight"].shape[1]
    out["mean"] = torch.zeros(n_mels)
    out["scale"] = torch.ones(n_mels)
    return out


def vocoder_state_to_reference(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, value in state.items():
        ref = vocoder_key_to_reference(name)
        if ref is not None:
            out[ref] = value
    return out


# --------------------------------------------------------------------------- text VAE (optimus)
def text_vae_key_from_reference(key: str) -> str | None:
    """`optimus.*` -> TextVAE names; None for the causal-mask buffers and the tied lm_head.

    optimus.encoder.{embeddings,encoder,pooler}.*   -> encoder.*          (transformers BertModel)
    optimus.encoder.linear.weight                   -> posterior.weight   (768 -> 2*latent, no bias)
    optimus.decoder.transformer.{wte,wpe,h,ln_f}.*  -> decoder.*          (transformers GPT2Model)
    optimus.decoder.transformer.linear.weight       -> latent_to_memory.weight
    optimus.decoder.transformer.linear_emb.weight   -> latent_to_embedding.weight
    """
    rest = _strip(key, TEXT_PREFIX)
    if _is_derived(rest):
        return None
    if rest == "encoder.linear.weight":
        return "posterior.weight"
    if rest.startswith(("encoder.embeddings.", "encoder.encoder.", "encoder.pooler.")):
        return rest
    if rest == "decoder.transformer.linear.weight":
        return "latent_to_memory.weight"
    if rest == "decoder.transformer.linear_emb.weight":
        return "latent_to_embedding.weight"
    if rest.startswith(("decoder.transformer.wte.", "decoder.transformer.wpe.", "decoder.transformer.h.",
                        "decoder.transformer.ln_f.")):
        return "decoder." + rest[len("decoder.transformer."):]
    raise KeyError(f"no TextVAE name for Optimus entry {key!r}")


def text_vae_key_to_reference(name: str) -> str:
    if name == "posterior.weight":
        return TEXT_PREFIX + "encoder.linear.weight"
    if name == "latent_to_memory.weight":
        return TEXT_PREFIX + "decoder.transformer.linear.weight"
    if name == "latent_to_embedding.weight":
        return TEXT_PREFIX + "decoder.transformer.linear_emb.weight"
    if name.startswith("encoder."):
        return TEXT_PREFIX + name
    if name.startswith("decoder."):
        return TEXT_PREFIX + "decoder.transformer." + name[len("decoder."):]
    raise KeyError(f"no Optimus name for TextVAE entry {name!r}")


def text_vae_state_from_reference(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """All `optimus.*` entries renamed for TextVAE.load_state_dict.

    Raises ValueError if the checkpoint's lm_head is not the word embedding (we tie them).
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not key.startswith(TEXT_PREFIX):
            continue
        name = text_vae_key_from_reference(key)
        if name is not None:
            out[name] = value
    head = state.get(TEXT_PREFIX + "decoder.lm_head.weight")
    wte = out.get("decoder.wte.weight")
    # meta tensors (shape checks on the meta device) carry no values to compare
    if head is not None and wte is not None and not head.is_meta and not torch.equal(head, wte):
        raise ValueError("optimus.decoder.lm_head.weight differs from transformer.wte.weight; "
                         "TextVAE ties them and cannot represent this checkpoint")
    return out


def text_vae_state_to_reference(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {text_vae_key_to_reference(k): v for k, v in state.items()}
    wte = out.get(TEXT_PREFIX + "decoder.transformer.wte.weight")
    if wte is not None:
        out[TEXT_PREFIX + "decoder.lm_head.weight"] = wte
    return out
