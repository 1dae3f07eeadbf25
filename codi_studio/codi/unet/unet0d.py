"""The text UNet of CoDi ("0-D multi-dim"): the (B, C) text latent is lifted to
(B, channels, second_dim) features and processed by fully connected residual blocks,
with attention over the second_dim positions."""

from __future__ import annotations

from torch import Tensor, nn

from .base import SubUNet
from .config import UNet0DConfig
from .layers import Block, FCBlock, MultiDimLinear, group_norm, zero_init
from .transformer import SpatialTransformer


class UNet0D(SubUNet):
    """Noise predictor on (B, C) text latents."""

    def __init__(self, config: UNet0DConfig) -> None:
        super().__init__()
        self.config = config
        self.model_channels = mc = config.model_channels
        self.gradient_checkpointing = config.gradient_checkpointing
        emb_dim = mc * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        latent = (config.input_channels,)

        def attention(ch: int, context_dim: int) -> SpatialTransformer:
            return SpatialTransformer(ch, config.num_heads, ch // config.num_heads, context_dim)

        # Environment encoder: linear lift -> FC res blocks (linear between levels) -> 1280-d vector.
        self.connector_output_channels = None
        with_connector = [False] * len(config.channel_mult)
        if config.has_connector:
            shape = (mc // 2, config.second_dim[0])
            encoder = [Block([MultiDimLinear(latent, shape)])]
            for level, (mult, sdim) in enumerate(zip(config.connector_channel_mult, config.connector_second_dim)):
                for _ in range(config.connector_res_blocks[level]):
                    encoder.append(Block([FCBlock(shape, emb_dim, (mult * mc, sdim))]))
                    shape = (mult * mc, sdim)
                if level != len(config.connector_channel_mult) - 1:
                    encoder.append(Block([MultiDimLinear(shape, shape)]))
            encoder.append(Block([group_norm(shape[0]), nn.SiLU(),
                                  MultiDimLinear(shape, (config.connector_output_channels,))]))
            self.connecters_out = nn.ModuleList(encoder)
            self.connector_output_channels = config.connector_output_channels
            with_connector = list(config.with_connector)

        def connector(ch: int, level: int) -> Block | None:
            if not with_connector[level]:
                return None
            return Block([attention(ch, config.connector_output_channels)])

        shape = (mc, config.second_dim[0])
        inputs: list[nn.Module] = [Block([MultiDimLinear(latent, shape)])]
        input_connectors: list[Block | None] = [None]
        skip_shapes = [shape]
        levels = len(config.channel_mult)
        for level, (mult, sdim) in enumerate(zip(config.channel_mult, config.second_dim)):
            for _ in range(config.num_res_blocks[level]):
                layers: list[nn.Module] = [FCBlock(shape, emb_dim, (mult * mc, sdim))]
                shape = (mult * mc, sdim)
                if config.with_attention[level]:
                    layers.append(attention(shape[0], config.context_dim))
                inputs.append(Block(layers))
                input_connectors.append(connector(shape[0], level))
                skip_shapes.append(shape)
            if level != levels - 1:
                inputs.append(Block([MultiDimLinear(shape, shape)]))
                input_connectors.append(None)
                skip_shapes.append(shape)
        self.input_blocks = nn.ModuleList(inputs)
        self.input_block_connecters_in = nn.ModuleList(input_connectors)

        self.middle_block = Block([FCBlock(shape, emb_dim), attention(shape[0], config.context_dim),
                                   FCBlock(shape, emb_dim)])

        outputs: list[nn.Module] = []
        output_connectors: list[Block | None] = []
        for level in reversed(range(levels)):
            mult, sdim = config.channel_mult[level], config.second_dim[level]
            for index in range(config.num_res_blocks[level] + 1):
                skip = skip_shapes.pop()
                layers = [FCBlock((shape[0] + skip[0], shape[1]), emb_dim, (mult * mc, sdim))]
                shape = (mult * mc, sdim)
                if config.with_attention[level]:
                    layers.append(attention(shape[0], config.context_dim))
                output_connectors.append(connector(shape[0], level))
                if level != 0 and index == config.num_res_blocks[level]:
                    layers.append(MultiDimLinear(shape, shape))
                outputs.append(Block(layers))
        self.output_blocks = nn.ModuleList(outputs)
        self.output_block_connecters_in = nn.ModuleList(output_connectors)

        self.out = nn.Sequential(group_norm(shape[0]), nn.SiLU(),
                                 zero_init(MultiDimLinear(shape, (config.output_channels,))))

    def _enter(self, x: Tensor) -> tuple[Tensor, int | None]:
        if x.ndim != 2 or x.shape[1] != self.config.input_channels:
            raise ValueError(f"UNet0D expects (B, {self.config.input_channels}) text latents, "
                             f"got shape {tuple(x.shape)}")
        return x, None

    def _leave(self, h: Tensor, frames: int | None) -> Tensor:
        return h

    def _pool(self, h: Tensor, frames: int | None) -> Tensor:
        return h
