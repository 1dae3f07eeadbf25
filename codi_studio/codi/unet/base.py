"""What every CoDi sub-UNet shares: the timestep embedding, the down/middle/up pass
with skip connections, the environment encoder ("connecters_out") and the connector
cross-attention layers ("*_block_connecters_in") that read environment tokens.

Subclasses build the modules and say how an input enters and leaves the internal layout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .layers import Block, LayerInputs, timestep_embedding


class SubUNet(nn.Module):
    """Base of UNet2D and UNet0D. Subclasses set the modules named below in __init__."""

    model_channels: int
    connector_output_channels: int | None
    time_embed: nn.Sequential
    input_blocks: nn.ModuleList
    input_block_connecters_in: nn.ModuleList  # Block or None per input block
    middle_block: Block
    output_blocks: nn.ModuleList
    output_block_connecters_in: nn.ModuleList  # Block or None per output block
    out: nn.Sequential
    gradient_checkpointing: bool

    # ---- layout hooks -------------------------------------------------------------
    def _enter(self, x: Tensor) -> tuple[Tensor, int | None]:
        """Input latent -> (internal tensor, frames per sample or None)."""
        raise NotImplementedError

    def _leave(self, h: Tensor, frames: int | None) -> Tensor:
        """Internal output -> latent layout of the input."""
        raise NotImplementedError

    def _pool(self, h: Tensor, frames: int | None) -> Tensor:
        """Environment encoder output -> (B, connector_output_channels) by mean pooling."""
        raise NotImplementedError

    # ---- public -------------------------------------------------------------------
    @property
    def has_connector(self) -> bool:
        return self.connector_output_channels is not None

    def embed_time(self, timesteps: Tensor) -> Tensor:
        """(B,) timesteps -> (B, 4 * model_channels)."""
        weight = self.time_embed[0].weight
        return self.time_embed(timestep_embedding(timesteps, self.model_channels).to(weight.dtype))

    def forward(self, x: Tensor, timesteps: Tensor, context: Tensor, environment: Tensor | None = None) -> Tensor:
        """Predict noise for x. ``environment`` (B, tokens, connector_output_channels) switches
        on the connector cross-attention layers (joint generation)."""
        if timesteps.ndim == 0:
            timesteps = timesteps.expand(x.shape[0])
        return self.denoise(x, self.embed_time(timesteps), context, environment)

    def encode_environment(self, x: Tensor, emb: Tensor, context: Tensor) -> Tensor:
        """The environment encoder: x -> pooled, L2-normalised vector (B, connector_output_channels)."""
        if not self.has_connector:
            raise RuntimeError(f"{type(self).__name__} was built without an environment encoder (connector)")
        h, frames = self._enter(x)
        inputs = LayerInputs(_per_frame(emb, frames), _per_frame(context, frames), frames)
        for block in self.connecters_out:
            h = self._run(block, h, inputs)
        return F.normalize(self._pool(h, frames), dim=-1)

    def denoise(self, x: Tensor, emb: Tensor, context: Tensor, environment: Tensor | None = None,
                middle_self_skip: bool = False) -> Tensor:
        """The UNet pass with a precomputed timestep embedding ``emb`` (B, E).

        ``middle_self_skip``: the first decoder block gets the middle block's output as its
        skip (concatenated with itself) instead of the last encoder output. The released
        joint forward does this (its skip list aliases the running activations), so the
        official weights were trained with it; the reference's standalone forward does not.
        """
        if environment is not None and not self.has_connector:
            raise RuntimeError(f"{type(self).__name__} was built without connector layers; "
                               "it cannot take environment tokens")
        h, frames = self._enter(x)
        inputs = LayerInputs(_per_frame(emb, frames), _per_frame(context, frames), frames)
        env_inputs = (LayerInputs(None, _per_frame(environment, frames), frames)
                      if environment is not None else None)
        skips: list[Tensor] = []
        for block, connector in zip(self.input_blocks, self.input_block_connecters_in):
            h = self._run(block, h, inputs)
            if connector is not None and env_inputs is not None:
                h = self._run(connector, h, env_inputs)
            skips.append(h)
        h = self._run(self.middle_block, h, inputs)
        if middle_self_skip:
            skips[-1] = h
        for block, connector in zip(self.output_blocks, self.output_block_connecters_in):
            h = self._run(block, torch.cat([h, skips.pop()], dim=1), inputs)
            if connector is not None and env_inputs is not None:
                h = self._run(connector, h, env_inputs)
        return self._leave(self.out(h), frames)

    def _run(self, block: nn.Module, h: Tensor, inputs: LayerInputs) -> Tensor:
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(block, h, inputs, use_reentrant=False)  # type: ignore[no-any-return]
        return block(h, inputs)  # type: ignore[no-any-return]


def _per_frame(t: Tensor | None, frames: int | None) -> Tensor | None:
    """Repeat per-sample tensors for each frame of a (B*F)-frame batch."""
    if t is None or frames is None:
        return t
    return t.repeat_interleave(frames, dim=0)
