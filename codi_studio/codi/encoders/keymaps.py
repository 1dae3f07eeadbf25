"""Parameter-name maps between the reference CoDi checkpoint and our encoders.

Reference names are the full `CoDi` state_dict names (`clip.*`, `clap.*`, as in
CoDi_encoders.pth); ours are the names in ClipEncoder / ClapEncoder state_dicts.
A map returns None for a reference entry we do not store because we regenerate it
from the config instead:

* `clip.model.{text,vision}_model.embeddings.position_ids` (arange buffers);
* the CLAP front-end that HTSAT creates lazily on its first forward
  (`spectrogram_extractor.stft.conv_{real,imag}.weight`: Hann-windowed DFT bases,
  `logmel_extractor.melW`: the Slaney mel filterbank), recomputed by AudioFrontEnd.

Every other name maps 1:1 (same tensor, same shape).
"""

from __future__ import annotations

import re
from typing import Mapping, TypeVar

_T = TypeVar("_T")

CLIP_PREFIX = "clip.model."
CLAP_PREFIX = "clap.model."

_CLIP_DROPPED = {
    "clip.model.text_model.embeddings.position_ids",
    "clip.model.vision_model.embeddings.position_ids",
}
_TEMPORAL_REF = re.compile(r"^clip\.model\.vision_model\.encoder\.layers\.(\d+)\.temporal_self_attn\.(.+)$")
_TEMPORAL_OURS = re.compile(r"^temporal\.(\d+)\.(.+)$")
# reference modules_video.py SpatioTemporalAttention names -> our TemporalBlock names
_TEMPORAL_NAMES = {
    "temporal_attn.norm.g": "attn_gain",
    "temporal_attn.to_q.weight": "to_q.weight",
    "temporal_attn.to_kv.weight": "to_kv.weight",
    "temporal_attn.to_out.weight": "to_out.weight",
    "temporal_attn.pos_embeds": "frame_pos_embeds",
    "temporal_attn.frame_rate_embeds": "frame_rate_embeds",
    "temporal_rel_pos_bias.net.0.0.weight": "position_bias.0.weight",
    "temporal_rel_pos_bias.net.0.0.bias": "position_bias.0.bias",
    "temporal_rel_pos_bias.net.1.0.weight": "position_bias.2.weight",
    "temporal_rel_pos_bias.net.1.0.bias": "position_bias.2.bias",
    "temporal_rel_pos_bias.net.2.weight": "position_bias.4.weight",
    "temporal_rel_pos_bias.net.2.bias": "position_bias.4.bias",
    "ff.proj_in.0.weight": "ff_in.weight",
    "ff.proj_out.0.g": "ff_gain",
    "ff.proj_out.1.weight": "ff_out.weight",
}
_TEMPORAL_NAMES_INV = {v: k for k, v in _TEMPORAL_NAMES.items()}

_CLAP_LAZY = re.compile(
    r"^clap\.model\.audio_branch\.(spectrogram_extractor\.stft\.conv_(real|imag)\.weight|logmel_extractor\.melW)$"
)
# reference sub-module prefix -> ours
_CLAP_PREFIXES = (
    ("clap.model.audio_branch.", "htsat."),
    ("clap.model.audio_transform.sequential.", "audio_transform."),
    ("clap.model.audio_projection.", "audio_projection."),
)


def clip_key_from_reference(key: str) -> str | None:
    """`clip.model.*` reference name -> ClipEncoder name, or None if regenerated."""
    if not key.startswith(CLIP_PREFIX):
        raise KeyError(f"not a CLIP reference key: {key!r}")
    if key in _CLIP_DROPPED:
        return None
    m = _TEMPORAL_REF.match(key)
    if m:
        layer, rest = m.groups()
        if rest not in _TEMPORAL_NAMES:
            raise KeyError(f"unknown temporal-attention parameter in reference key {key!r}")
        return f"temporal.{layer}.{_TEMPORAL_NAMES[rest]}"
    return "model." + key[len(CLIP_PREFIX):]


def clip_key_to_reference(key: str) -> str:
    """ClipEncoder name -> `clip.model.*` reference name."""
    m = _TEMPORAL_OURS.match(key)
    if m:
        layer, rest = m.groups()
        if rest not in _TEMPORAL_NAMES_INV:
            raise KeyError(f"unknown temporal parameter {key!r}")
        return f"clip.model.vision_model.encoder.layers.{layer}.temporal_self_attn.{_TEMPORAL_NAMES_INV[rest]}"
    if not key.startswith("model."):
        raise KeyError(f"not a ClipEncoder key: {key!r}")
    return CLIP_PREFIX + key[len("model."):]


def clap_key_from_reference(key: str) -> str | None:
    """`clap.model.*` reference name -> ClapEncoder name, or None for the lazily built front-end."""
    if _CLAP_LAZY.match(key):
        return None
    for ref, ours in _CLAP_PREFIXES:
        if key.startswith(ref):
            return ours + key[len(ref):]
    raise KeyError(f"not a CLAP reference key: {key!r}")


def clap_key_to_reference(key: str) -> str:
    """ClapEncoder name -> `clap.model.*` reference name."""
    for ref, ours in _CLAP_PREFIXES:
        if key.startswith(ours):
            return ref + key[len(ours):]
    raise KeyError(f"not a ClapEncoder key: {key!r}")


def _convert(reference: Mapping[str, _T], prefix: str, mapper) -> dict[str, _T]:
    out: dict[str, _T] = {}
    for k, v in reference.items():
        if k.startswith(prefix):
            ours = mapper(k)
            if ours is not None:
                out[ours] = v
    return out


def clip_state_dict_from_reference(reference: Mapping[str, _T]) -> dict[str, _T]:
    """All `clip.model.*` entries of a reference state_dict, renamed for ClipEncoder (others ignored)."""
    return _convert(reference, CLIP_PREFIX, clip_key_from_reference)


def clap_state_dict_from_reference(reference: Mapping[str, _T]) -> dict[str, _T]:
    """All `clap.model.*` entries of a reference state_dict, renamed for ClapEncoder (others ignored)."""
    return _convert(reference, CLAP_PREFIX, clap_key_from_reference)

