"""The variance normalisation CoDi's temporal blocks use (no mean/scale parameters of its own)."""

from __future__ import annotations

import torch
from torch import Tensor


def normalise_over(x: Tensor, dim: int) -> Tensor:
    """(x - mean) / sqrt(max(var, floor)) over one axis, biased variance, as the reference computes it.

    The floor is 1e-5 in float32 and 1e-3 otherwise (the reference's eps).
    Two passes by hand: torch.var over a short axis is ~10x slower on CPU, and the
    CLIP video tower spent a tenth of its training step there.
    """
    floor = 1e-5 if x.dtype == torch.float32 else 1e-3
    centred = x - x.mean(dim=dim, keepdim=True)
    var = centred.square().mean(dim=dim, keepdim=True)
    return centred * var.clamp(min=floor).rsqrt()
