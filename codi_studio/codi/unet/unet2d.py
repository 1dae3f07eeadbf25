"""The 2-D UNet of CoDi: image/video (with the video architecture) and audio (mel latents)."""

from __future__ import annotations

from torch import Tensor, nn

from .base import SubUNet
from .config import UNet2DConfig
from .layers import Block, Downsample, ResBlock, Upsample, group_norm, zero_init
from .temporal import VideoResBlock
from .transformer import SpatialTransformer


class UNet2D(SubUNet):
    """Noise predictor on (B, C, H, W) latents, or (B, C, F, H, W) videos when built with
    ``video=True`` (a 4-D image through a video net skips the temporal layers)."""

    def __init__(self, config: UNet2DConfig) -> None:
        super().__init__()
        self.config = config
        self.model_channels = mc = config.model_channels
        self.gradient_checkpointing = config.gradient_checkpointing
        emb_dim = mc * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

        def res_block(ch_in: int, ch_out: int) -> nn.Module:
            if config.video:
                return VideoResBlock(ch_in, emb_dim, ch_out, config.video_heads, config.video_head_divisor)
            return ResBlock(ch_in, emb_dim, ch_out)

        def attention(ch: int, context_dim: int) -> SpatialTransformer:
            return SpatialTransformer(ch, config.num_heads, ch // config.num_heads, context_dim)

        # Environment encoder: latent -> conv -> res blocks (downsampling between levels) -> 1280-d map.
        self.connector_output_channels = None
        with_connector = [False] * len(config.channel_mult)
        if config.has_connector:
            ch = mc // 2
            encoder = [Block([nn.Conv2d(config.input_channels, ch, 3, padding=1)])]
            for level, mult in enumerate(config.connector_channel_mult):
                for _ in range(config.connector_res_blocks[level]):
                    encoder.append(Block([res_block(ch, mult * mc)]))
                    ch = mult * mc
                if level != len(config.connector_channel_mult) - 1:
                    encoder.append(Block([Downsample(ch)]))
            encoder.append(Block([group_norm(ch), nn.SiLU(),
                                  nn.Conv2d(ch, config.connector_output_channels, 3, padding=1)]))
            self.connecters_out = nn.ModuleList(encoder)
            self.connector_output_channels = config.connector_output_channels
            with_connector = list(config.with_connector)

        def connector(ch: int, level: int) -> Block | None:
            if not with_connector[level]:
                return None
            return Block([attention(ch, config.connector_output_channels)])

        ch = mc
        inputs: list[nn.Module] = [Block([nn.Conv2d(config.input_channels, mc, 3, padding=1)])]
        input_connectors: list[Block | None] = [None]
        skip_channels = [ch]
        levels = len(config.channel_mult)
        for level, mult in enumerate(config.channel_mult):
            for _ in range(config.num_res_blocks[level]):
                layers = [res_block(ch, mult * mc)]
                ch = mult * mc
                if config.with_attention[level]:
                    layers.append(attention(ch, config.context_dim))
                inputs.append(Block(layers))
                input_connectors.append(connector(ch, level))
                skip_channels.append(ch)
            if level != levels - 1:
                inputs.append(Block([Downsample(ch)]))
                input_connectors.append(None)
                skip_channels.append(ch)
        self.input_blocks = nn.ModuleList(inputs)
        self.input_block_connecters_in = nn.ModuleList(input_connectors)

        self.middle_block = Block([res_block(ch, ch), attention(ch, config.context_dim), res_block(ch, ch)])

        outputs: list[nn.Module] = []
        output_connectors: list[Block | None] = []
        for level in reversed(range(levels)):
            mult = config.channel_mult[level]
            for index in range(config.num_res_blocks[level] + 1):
                layers = [res_block(ch + skip_channels.pop(), mult * mc)]
                ch = mult * mc
                if config.with_attention[level]:
                    layers.append(attention(ch, config.context_dim))
                output_connectors.append(connector(ch, level))
                if level != 0 and index == config.num_res_blocks[level]:
                    layers.append(Upsample(ch))
                outputs.append(Block(layers))
        self.output_blocks = nn.ModuleList(outputs)
        self.output_block_connecters_in = nn.ModuleList(output_connectors)

        self.out = nn.Sequential(group_norm(ch), nn.SiLU(),
                                 zero_init(nn.Conv2d(mc, config.output_channels, 3, padding=1)))

    def _enter(self, x: Tensor) -> tuple[Tensor, int | None]:
        if x.ndim not in (4, 5):
            raise ValueError(f"UNet2D expects (B, C, H, W) or (B, C, F, H, W) latents, got shape {tuple(x.shape)}")
        if x.shape[1] != self.config.input_channels:
            raise ValueError(f"UNet2D expects {self.config.input_channels} latent channels, got shape {tuple(x.shape)}")
        factor = 2 ** (max(len(self.config.channel_mult), len(self.config.connector_channel_mult)) - 1)
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"UNet2D latent height and width must be multiples of {factor} "
                             f"(it halves them {factor.bit_length() - 1} times), got shape {tuple(x.shape)}")
        if x.ndim == 4:
            return x, None
        b, c, f, h, w = x.shape
        return x.transpose(1, 2).reshape(b * f, c, h, w), f

    def _leave(self, h: Tensor, frames: int | None) -> Tensor:
        if frames is None:
            return h
        n, c, height, width = h.shape
        return h.view(n // frames, frames, c, height, width).transpose(1, 2).contiguous()

    def _pool(self, h: Tensor, frames: int | None) -> Tensor:
        pooled = h.flatten(2).mean(dim=2)
        if frames is None:
            return pooled
        return pooled.view(-1, frames, pooled.shape[1]).mean(dim=1)
