"""CoDi's temporal block for the CLIP vision tower (video conditioning).

CoDi inserts one of these into every vision encoder layer, between the spatial
self-attention residual and the MLP. It attends across frames, separately for
every token position. Computed exactly as the reference (modules_video.py
SpatioTemporalAttention), including two quirks that trained weights depend on:

* the pre-attention "layer norm" normalises over the FRAME axis (dim 1 of a
  (tokens, frames, channels) tensor), not over channels, with the variance clamped
  at eps (1e-5 in float32, 1e-3 otherwise) and a per-channel gain;
* the feed-forward runs its GEGLU and norm in float32 (norm over channels,
  1x1-conv layout), then casts back to the weights' dtype.

The frame position/frame-rate embeddings exist in the checkpoint but the reference
never passes a frame rate, so they are kept as (unused) parameters.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..normalise import normalise_over


class TemporalBlock(nn.Module):
    """Frame attention with a log-distance continuous position bias, then a GEGLU feed-forward."""

    def __init__(self, dim: int, heads: int, max_frames: int = 30) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"TemporalBlock: dim {dim} not divisible by {heads} heads")
        self.heads = heads
        self.head_dim = dim // heads
        inner = self.head_dim * heads
        self.attn_gain = nn.Parameter(torch.ones(dim))
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)
        nn.init.zeros_(self.to_out.weight)  # starts as identity through the residual
        self.frame_pos_embeds = nn.Parameter(torch.randn(1, max_frames, dim))
        self.frame_rate_embeds = nn.Parameter(torch.randn(1, max_frames, dim))
        # Continuous position bias: MLP over signed log distance between frames -> one bias per head.
        hidden = dim // 2
        self.position_bias = nn.Sequential(
            nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, heads)
        )
        ff_inner = int(dim * 4 * 2 / 3)
        self.ff_in = nn.Conv1d(dim, ff_inner * 2, 1, bias=False)
        self.ff_gain = nn.Parameter(torch.ones(1, ff_inner, 1))
        self.ff_out = nn.Conv1d(ff_inner, dim, 1, bias=False)
        nn.init.zeros_(self.ff_out.weight)

    def _frame_bias(self, frames: int) -> torch.Tensor:
        pos = torch.arange(frames, device=self.to_q.weight.device)
        rel = (pos[:, None] - pos[None, :]).to(self.to_q.weight.dtype)[..., None]
        rel = torch.sign(rel) * torch.log(rel.abs() + 1)
        return self.position_bias(rel).permute(2, 0, 1)  # (heads, frames, frames)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        n, f, _ = x.shape
        normed = normalise_over(x, dim=1) * self.attn_gain
        q = self.to_q(normed)
        k, v = self.to_kv(normed).chunk(2, dim=-1)
        q, k, v = (t.view(n, f, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        sim = (q * self.head_dim ** -0.5) @ k.transpose(-1, -2) + self._frame_bias(f)
        out = (sim.softmax(dim=-1) @ v).transpose(1, 2).reshape(n, f, -1)
        return torch.nan_to_num(self.to_out(out))

    def _feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ff_in(x.transpose(1, 2)).float()  # the reference's GEGLU computes in float32
        h, gate = h.chunk(2, dim=1)
        h = h * F.gelu(gate)
        h = normalise_over(h, dim=1).to(self.ff_gain.dtype) * self.ff_gain
        return self.ff_out(h).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (tokens, frames, dim) -> same shape."""
        x = self._attend(x) + x
        return self._feed_forward(x) + x

