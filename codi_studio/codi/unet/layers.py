"""Building blocks shared by CoDi's UNets: timestep embedding, residual blocks,
resampling, and the containers that route timestep/context/frame information.

Tensor layouts inside the networks:
- 2-D nets: (N, C, H, W); a video (B, C, F, H, W) runs as N = B*F frames (frame-major
  per sample), with ``frames`` = F carried in ``LayerInputs`` for the temporal layers.
- the text (0-D) net: (B, C, S) with S = "second_dim" (the reference's [C, S, 1]).
Parameter names follow the reference modules so that checkpoints load by name.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import NORM_GROUPS


class LayerInputs(NamedTuple):
    """What a block passes to its conditioned layers, already expanded per frame."""

    emb: Tensor | None  # (N, time_embed_dim)
    context: Tensor | None  # (N, tokens, context_dim)
    frames: int | None  # frames per sample for video, None for images / text


class ConditionedLayer:
    """Marker: a layer whose forward is ``forward(x, inputs: LayerInputs)``."""


def timestep_embedding(timesteps: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding [cos | sin] of (possibly fractional) timesteps, shape (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32,
                                                           device=timesteps.device) / half)
    args = timesteps[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def group_norm(channels: int, eps: float = 1e-5) -> nn.GroupNorm:
    return nn.GroupNorm(NORM_GROUPS, channels, eps=eps)


def zero_init(module: nn.Module) -> nn.Module:
    """Zero a module's parameters so a residual branch starts as identity (as the reference)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class PointwiseLinear(nn.Module):
    """A 1x1(x1) convolution stored with its conv weight shape, applied as a linear map
    on the last axis (cheaper than a conv on 1x1 maps or token layouts)."""

    def __init__(self, in_features: int, out_features: int, spatial_dims: int = 2, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features, *([1] * spatial_dims)))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight.shape[1])
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight.flatten(1), self.bias)


class MultiDimLinear(nn.Linear):
    """Linear map from a flattened (C, S) feature to a (C', S') one (reference Linear_MultiDim).

    Input (B, ...) is flattened from dim 1; output is (B, *out_shape).
    """

    def __init__(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...], bias: bool = True) -> None:
        super().__init__(math.prod(in_shape), math.prod(out_shape), bias=bias)
        self.out_shape = tuple(out_shape)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.flatten(1)).view(x.shape[0], *self.out_shape)


class ResBlock(nn.Module, ConditionedLayer):
    """Conv residual block with an added timestep embedding (no scale-shift norm)."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int | None = None) -> None:
        super().__init__()
        out_channels = out_channels or channels
        self.in_layers = nn.Sequential(group_norm(channels), nn.SiLU(),
                                       nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(group_norm(out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        zero_init(nn.Conv2d(out_channels, out_channels, 3, padding=1)))
        self.skip_connection: nn.Module = (nn.Identity() if out_channels == channels
                                           else nn.Conv2d(channels, out_channels, 1))

    def forward(self, x: Tensor, inputs: LayerInputs) -> Tensor:
        assert inputs.emb is not None
        h = self.in_layers(x) + self.emb_layers(inputs.emb)[:, :, None, None]
        return self.skip_connection(x) + self.out_layers(h)


class FCBlock(nn.Module, ConditionedLayer):
    """Fully connected residual block of the text net on (B, C, S) features.

    Works on the flattened C*S vector (GroupNorm over C*S, 1x1 "convs" = linears), then
    reshapes to the output (C', S') (reference FCBlock_MultiDim).
    """

    def __init__(self, in_shape: tuple[int, int], emb_channels: int, out_shape: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape or in_shape)
        n_in, n_out = math.prod(in_shape), math.prod(self.out_shape)
        self.in_layers = nn.Sequential(group_norm(n_in), nn.SiLU(), PointwiseLinear(n_in, n_out))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, n_out))
        self.out_layers = nn.Sequential(group_norm(n_out), nn.SiLU(), nn.Dropout(0.0),
                                        zero_init(PointwiseLinear(n_out, n_out)))
        self.skip_connection: nn.Module = nn.Identity() if n_out == n_in else PointwiseLinear(n_in, n_out)

    def forward(self, x: Tensor, inputs: LayerInputs) -> Tensor:
        assert inputs.emb is not None
        flat = x.flatten(1)
        h = self.in_layers(flat) + self.emb_layers(inputs.emb)
        out = self.skip_connection(flat) + self.out_layers(h)
        return out.view(x.shape[0], *self.out_shape)


class Downsample(nn.Module):
    """Stride-2 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.op(x)


class Upsample(nn.Module):
    """Nearest-neighbour 2x upsampling, then a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.ModuleList):
    """An ordered group of layers; conditioned layers get ``LayerInputs``, others only x."""

    def forward(self, x: Tensor, inputs: LayerInputs) -> Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, inputs) if isinstance(layer, ConditionedLayer) else layer(x)
        return x
