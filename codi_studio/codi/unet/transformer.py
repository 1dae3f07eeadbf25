"""The spatial transformer: self-attention over positions, cross-attention to a context
(the mixed conditioning, or the environment tokens for the connector layers), GEGLU MLP.

Works on (N, C, *spatial) for any number of spatial axes (2 for image/audio maps,
1 for the text net's second_dim). Attention runs through ``F.scaled_dot_product_attention``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .layers import ConditionedLayer, LayerInputs, PointwiseLinear, group_norm, zero_init


def multi_head_attention(q: Tensor, k: Tensor, v: Tensor, heads: int, bias: Tensor | None = None) -> Tensor:
    """(N, Lq, H*D), (N, Lk, H*D) x2 -> (N, Lq, H*D); softmax(q k^T / sqrt(D) + bias) v."""
    n, lq, inner = q.shape
    d = inner // heads
    q, k, v = (t.view(t.shape[0], t.shape[1], heads, d).transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    return out.transpose(1, 2).reshape(n, lq, inner)


class CrossAttention(nn.Module):
    """Multi-head attention of x to a context (to itself when context is None)."""

    def __init__(self, query_dim: int, heads: int, dim_head: int, context_dim: int | None = None) -> None:
        super().__init__()
        inner = heads * dim_head
        context_dim = context_dim or query_dim
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        source = x if context is None else context
        out = multi_head_attention(self.to_q(x), self.to_k(source), self.to_v(source), self.heads)
        return self.to_out(out)


class GEGLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x: Tensor) -> Tensor:
        value, gate = self.proj(x).chunk(2, dim=-1)
        return value * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int, context_dim: int) -> None:
        super().__init__()
        self.attn1 = CrossAttention(dim, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, heads, dim_head, context_dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: Tensor, context: Tensor | None) -> Tensor:
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class SpatialTransformer(nn.Module, ConditionedLayer):
    """GroupNorm -> 1x1 in -> transformer block(s) on positions -> 1x1 out, residual."""

    def __init__(self, channels: int, heads: int, dim_head: int, context_dim: int, depth: int = 1) -> None:
        super().__init__()
        inner = heads * dim_head
        self.norm = group_norm(channels, eps=1e-6)
        self.proj_in = PointwiseLinear(channels, inner)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(inner, heads, dim_head, context_dim) for _ in range(depth))
        self.proj_out = zero_init(PointwiseLinear(inner, channels))

    def forward(self, x: Tensor, inputs: LayerInputs) -> Tensor:
        tokens = self.proj_in(self.norm(x).flatten(2).transpose(1, 2))
        for block in self.transformer_blocks:
            tokens = block(tokens, inputs.context)
        out = self.proj_out(tokens).transpose(1, 2).reshape(x.shape)
        return out + x
