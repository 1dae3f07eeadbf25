"""HTSAT: the Swin-transformer audio branch of CLAP (no fusion), as CoDi's reference builds it.

transformers' ClapAudioModel is the same network but not 1:1 on tensors (it splits
each fused `qkv` projection into query/key/value and drops the `tscam_conv`/`head`
classifier that the checkpoint carries), so this is our own module whose parameter
names follow the checkpoint's Swin layout.

Forward (open_clip/htsat.py HTSAT_Swin_Transformer.forward, enable_fusion False, eval):
log-mel (B, T, mel) -> BatchNorm over mel bins -> "image" of spec_size x spec_size
(time bicubic-stretched to spec_size*freq_ratio with align_corners, then cut into
freq_ratio chunks stacked along frequency) -> patch embed -> Swin stages -> LayerNorm
-> mean over all tokens = the 'embedding' output CLAP projects.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ClapEncoderConfig


def _windows(x: torch.Tensor, size: int) -> torch.Tensor:
    """(B, H, W, C) -> (B*nW, size*size, C)."""
    b, h, w, c = x.shape
    x = x.view(b, h // size, size, w // size, size, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, size * size, c)


def _unwindow(windows: torch.Tensor, size: int, h: int, w: int) -> torch.Tensor:
    """(B*nW, size*size, C) -> (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(-1, h // size, w // size, size, size, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def _relative_position_index(size: int) -> torch.Tensor:
    coords = torch.stack(torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (size - 1)
    return rel[..., 0] * (2 * size - 1) + rel[..., 1]


def _shift_mask(h: int, w: int, size: int, shift: int) -> torch.Tensor:
    """(nW, size*size, size*size) additive mask: -100 between tokens from different regions after the roll."""
    region = torch.zeros(1, h, w, 1)
    bands = (slice(0, -size), slice(-size, -shift), slice(-shift, None))
    label = 0
    for hs in bands:
        for ws in bands:
            region[:, hs, ws, :] = label
            label += 1
    ids = _windows(region, size).squeeze(-1)
    diff = ids[:, None, :] - ids[:, :, None]
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


class WindowAttention(nn.Module):
    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        self.register_buffer("relative_position_index", _relative_position_index(window))
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        bw, n, c = x.shape
        q, k, v = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1)[None]
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(bw // nw, nw, self.heads, n, n) + mask[None, :, None]).view(bw, self.heads, n, n)
        out = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class SwinBlock(nn.Module):
    def __init__(self, dim: int, resolution: tuple[int, int], heads: int, window: int, shifted: bool,
                 mlp_ratio: float) -> None:
        super().__init__()
        self.resolution = resolution
        self.window = window
        self.shift = window // 2 if shifted else 0
        if min(resolution) <= window:  # one window covers the map: no shifting
            self.window, self.shift = min(resolution), 0
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, self.window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        mask = _shift_mask(*resolution, self.window, self.shift) if self.shift else None
        self.register_buffer("attn_mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = self.resolution
        b, _, c = x.shape
        y = self.norm1(x).view(b, h, w, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = _unwindow(self.attn(_windows(y, self.window), self.attn_mask), self.window, h, w)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(b, h * w, c)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim: int, resolution: tuple[int, int]) -> None:
        super().__init__()
        self.resolution = resolution
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = self.resolution
        b, _, c = x.shape
        x = x.view(b, h, w, c)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x.view(b, -1, 4 * c)))


class SwinStage(nn.Module):
    def __init__(self, dim: int, resolution: tuple[int, int], depth: int, heads: int, window: int,
                 mlp_ratio: float, downsample: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, resolution, heads, window, shifted=i % 2 == 1, mlp_ratio=mlp_ratio) for i in range(depth)
        )
        self.downsample = PatchMerging(dim, resolution) if downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, stride: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(1, dim, kernel_size=patch, stride=stride, padding=(patch - stride) // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class Htsat(nn.Module):
    """log-mel (B, T, mel_bins) -> clip embedding (B, embed_dim * 2**(stages-1))."""

    def __init__(self, config: ClapEncoderConfig) -> None:
        super().__init__()
        self.config = config
        if config.spec_size % config.mel_bins:
            raise ValueError(
                f"ClapEncoderConfig: spec_size {config.spec_size} not a multiple of mel_bins {config.mel_bins}")
        self.freq_ratio = config.spec_size // config.mel_bins
        self.bn0 = nn.BatchNorm2d(config.mel_bins)
        self.patch_embed = PatchEmbed(config.patch_size, config.patch_stride, config.embed_dim)
        grid = config.spec_size // config.patch_stride
        stages = len(config.depths)
        self.layers = nn.ModuleList(
            SwinStage(config.embed_dim * 2 ** i, (grid // 2 ** i, grid // 2 ** i), config.depths[i],
                      config.num_heads[i], config.window_size_attn, config.mlp_ratio, downsample=i < stages - 1)
            for i in range(stages)
        )
        self.norm = nn.LayerNorm(config.final_dim)
        # The AudioSet classifier (framewise tscam conv + linear head) is in the checkpoint but not part of
        # the embedding CoDi uses; kept so the state_dict matches it.
        tscam_freq = config.spec_size // 2 ** (stages - 1) // config.patch_stride // self.freq_ratio
        self.tscam_conv = nn.Conv2d(config.final_dim, config.num_classes, kernel_size=(tscam_freq, 3), padding=(0, 1))
        self.head = nn.Linear(config.num_classes, config.num_classes)

    def to_image(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 1, T, F) -> (B, 1, spec_size, spec_size): time stretched, then folded onto frequency."""
        target_t = self.config.spec_size * self.freq_ratio
        t, f = mel.shape[2:]
        if t > target_t or f != self.config.mel_bins:
            raise ValueError(f"HTSAT input of {t} frames x {f} bins exceeds {target_t} x {self.config.mel_bins}")
        if t < target_t:
            mel = F.interpolate(mel, (target_t, f), mode="bicubic", align_corners=True)
        b = mel.shape[0]
        x = mel.permute(0, 1, 3, 2).reshape(b, 1, f, self.freq_ratio, target_t // self.freq_ratio)
        return x.permute(0, 1, 3, 2, 4).reshape(b, 1, self.freq_ratio * f, target_t // self.freq_ratio)

    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        x = self.bn0(log_mel[:, None].transpose(1, 3)).transpose(1, 3)  # normalise each mel bin
        x = self.patch_embed(self.to_image(x))
        for stage in self.layers:
            x = stage(x)
        return self.norm(x).mean(dim=1)
