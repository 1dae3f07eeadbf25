"""CoDi's video layers: a spatio-temporal block after every residual block of the
image UNet (temporal attention across frames, a token-shifting GEGLU MLP, and a
frame-shift conv block). For images (``frames`` is None) the block is the identity,
so images and videos run through the same weights.

Frames arrive as (B*F, C, H, W). Numerical quirks kept from the reference on purpose
(the checkpoints were trained with them):
- the attention's LayerNorm normalises over the FRAME axis (per channel), not channels;
- learned frame position and frame-rate embeddings (frame rate fixed at 4) are added to
  the attention input, but the residual adds the attention output to the raw input;
- variance in both norms is clamped at a floor instead of adding eps: 1e-5 for float32,
  1e-3 for any other dtype in the attention norm; the MLP's gated hidden state and its norm
  are always computed in float32 (so half-precision runs behave like the reference's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..normalise import normalise_over
from .layers import ConditionedLayer, LayerInputs, PointwiseLinear, ResBlock, group_norm, zero_init
from .transformer import multi_head_attention

MAX_FRAMES = 30  # size of the learned frame position table
FRAME_RATE = 4  # the reference always calls with its default frame rate


class FrameNorm(nn.Module):
    """Normalises (N, T, C) tokens over the frame axis, scales per channel."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return normalise_over(x, dim=1) * self.g


class ChannelNorm(nn.Module):
    """Normalises (N, T, C) tokens over channels; scale stored as (C, 1, 1, 1) like the reference."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(dim, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return normalise_over(x, dim=-1).to(self.g.dtype) * self.g.view(-1)


class TemporalAttention(nn.Module):
    def __init__(self, dim: int, dim_head: int, heads: int) -> None:
        super().__init__()
        inner = dim_head * heads
        self.heads = heads
        self.norm = FrameNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = zero_init(nn.Linear(inner, dim, bias=False))
        self.pos_embeds = nn.Parameter(torch.randn(1, MAX_FRAMES, dim))
        self.frame_rate_embeds = nn.Parameter(torch.randn(1, MAX_FRAMES, dim))

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        """x (N, T, C), bias (heads, T, T) -> attention output (N, T, C), without the residual."""
        frames = x.shape[1]
        x = x + self.pos_embeds[:, :frames]
        x = x + self.frame_rate_embeds[:, FRAME_RATE - 1:FRAME_RATE]
        x = self.norm(x)
        k, v = self.to_kv(x).chunk(2, dim=-1)
        return self.to_out(multi_head_attention(self.to_q(x), k, v, self.heads, bias))


class ContinuousPositionBias(nn.Module):
    """Per-head attention bias from the signed log frame distance, through a small MLP."""

    def __init__(self, dim: int, heads: int, layers: int = 2) -> None:
        super().__init__()
        self.net = nn.ModuleList([nn.Sequential(nn.Linear(1, dim), nn.SiLU())])
        for _ in range(layers - 1):
            self.net.append(nn.Sequential(nn.Linear(dim, dim), nn.SiLU()))
        self.net.append(nn.Linear(dim, heads))

    def forward(self, frames: int) -> Tensor:
        weight = self.net[0][0].weight
        pos = torch.arange(frames, device=weight.device, dtype=weight.dtype)
        rel = pos[:, None] - pos[None, :]
        h = (torch.sign(rel) * torch.log(rel.abs() + 1))[..., None]
        for layer in self.net:
            h = layer(h)
        return h.permute(2, 0, 1)  # (heads, T, T)


class TokenShiftFeedForward(nn.Module):
    """GEGLU MLP on (N, T, C) whose second half of hidden channels is shifted one frame later."""

    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        inner = int(dim * mult * 2 / 3)
        self.proj_in = nn.Sequential(PointwiseLinear(dim, inner * 2, spatial_dims=3, bias=False))
        self.proj_out = nn.Sequential(ChannelNorm(inner), PointwiseLinear(inner, dim, spatial_dims=3, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        value, gate = self.proj_in(x).float().chunk(2, dim=-1)
        h = value * F.gelu(gate)
        keep, shift = h.chunk(2, dim=-1)
        shift = F.pad(shift, (0, 0, 1, -1))  # frame t sees frame t-1; first frame gets zeros
        return self.proj_out(torch.cat([keep, shift], dim=-1))


class FrameShiftBlock(nn.Module):
    """Norm/SiLU/conv whose output channel groups g=0..7 are delayed by g frames, added to x."""

    GROUPS = 8

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.out_layers = nn.Sequential(group_norm(channels), nn.SiLU(),
                                        zero_init(nn.Conv2d(channels, channels, 3, padding=1)))

    def forward(self, x: Tensor, frames: int) -> Tensor:
        h = self.out_layers(x)
        h = h.view(-1, frames, *h.shape[1:])  # (B, T, C, H, W)
        pieces = []
        for delay, piece in enumerate(h.chunk(self.GROUPS, dim=2)):
            if delay:
                piece = F.pad(piece, (0, 0, 0, 0, 0, 0, min(delay, frames), -min(delay, frames)))
            pieces.append(piece)
        return x + torch.cat(pieces, dim=2).view(x.shape)


class SpatioTemporalAttention(nn.Module):
    def __init__(self, dim: int, dim_head: int, heads: int = 8) -> None:
        super().__init__()
        self.frameshiftblock = FrameShiftBlock(dim)
        self.temporal_attn = TemporalAttention(dim, dim_head, heads)
        self.temporal_rel_pos_bias = ContinuousPositionBias(dim // 2, heads)
        self.ff = TokenShiftFeedForward(dim)

    def forward(self, x: Tensor, frames: int | None) -> Tensor:
        if frames is None:
            return x
        if frames > MAX_FRAMES:
            raise ValueError(f"video has {frames} frames; the temporal layers support at most {MAX_FRAMES}")
        n, c, height, width = x.shape
        b = n // frames
        tokens = x.view(b, frames, c, height, width).permute(0, 3, 4, 1, 2).reshape(b * height * width, frames, c)
        tokens = tokens + self.temporal_attn(tokens, self.temporal_rel_pos_bias(frames))
        tokens = tokens + self.ff(tokens)
        x = tokens.view(b, height, width, frames, c).permute(0, 3, 4, 1, 2).reshape(n, c, height, width)
        return self.frameshiftblock(x, frames)


class VideoResBlock(nn.ModuleList, ConditionedLayer):
    """A residual block followed by its spatio-temporal block (indices 0 and 1, as in checkpoints)."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int, heads: int, head_divisor: int) -> None:
        super().__init__([ResBlock(channels, emb_channels, out_channels),
                          SpatioTemporalAttention(out_channels, out_channels // head_divisor, heads)])

    def forward(self, x: Tensor, inputs: LayerInputs) -> Tensor:  # type: ignore[override]
        return self[1](self[0](x, inputs), inputs.frames)
