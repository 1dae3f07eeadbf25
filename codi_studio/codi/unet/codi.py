"""The joint CoDi UNet: image/video, text and audio sub-UNets sharing one conditioning
context and timestep, coupled in joint generation through environment vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from .base import SubUNet
from .config import JOINT_MODES, CodiUNetConfig
from .unet0d import UNet0D
from .unet2d import UNet2D

# Output modality -> sub-network attribute, and the latent rank it takes.
MODALITY_NET: dict[str, str] = {"image": "unet_image", "video": "unet_image", "text": "unet_text", "audio": "unet_audio"}
MODALITY_NDIM: dict[str, int] = {"image": 4, "video": 5, "text": 2, "audio": 4}


def mix_conditions(conditions: Sequence[Tensor], weights: Sequence[float]) -> Tensor:
    """Composable conditioning: sum_i c_i * w_i / sum(w).

    Conditions are (B, tokens, D); token counts broadcast as in the reference (e.g. 77 and 1
    mix; 77 and 3 do not). Works unchanged on CFG-doubled batches (uncond halves mix with
    uncond halves).
    """
    if len(conditions) == 0 or len(conditions) != len(weights):
        raise ValueError(f"mix_conditions: need one weight per condition, got {len(conditions)} conditions "
                         f"and {len(weights)} weights")
    total = float(sum(weights))
    if total == 0.0:
        raise ValueError(f"mix_conditions: weights {list(weights)} sum to zero")
    shapes = [tuple(c.shape) for c in conditions]
    if not _broadcastable(shapes):
        raise ValueError(f"mix_conditions: condition shapes {shapes} do not broadcast "
                         "(token counts must be equal or 1)")
    mixed = conditions[0] * (float(weights[0]) / total)
    for condition, weight in zip(conditions[1:], weights[1:]):
        mixed = mixed + condition * (float(weight) / total)
    return mixed


def _broadcastable(shapes: list[tuple[int, ...]]) -> bool:
    # by hand: the first torch.broadcast_shapes call costs seconds (lazy imports)
    if len({len(s) for s in shapes}) != 1:
        return False
    return all(len({n for n in sizes if n != 1}) <= 1 for sizes in zip(*shapes))


class CodiUNet(nn.Module):
    """Holds ``unet_image`` (image + video), ``unet_text``, ``unet_audio`` (any subset).

    forward(latents, timesteps, context, joint_mode=None) -> {modality: eps}
      latents: {'image': (B,C,H,W), 'video': (B,C,F,H,W), 'text': (B,C), 'audio': (B,C,H,W)}
      timesteps: (B,) or a 0-dim tensor for the whole batch;
      context: (B, tokens, context_dim), e.g. from ``mix_conditions``.
      One key = single-output generation (no connectors run). Several keys = joint
      generation: every latent goes through its environment encoder to a pooled,
      L2-normalised vector, and each output's connector layers attend to
        "reference": its own vector (one token; the released code),
        "cross": the vectors of the other outputs (one token per other output).
    """

    def __init__(self, config: CodiUNetConfig) -> None:
        super().__init__()
        self.config = config
        self.unet_image = UNet2D(config.image) if config.image is not None else None
        self.unet_text = UNet0D(config.text) if config.text is not None else None
        self.unet_audio = UNet2D(config.audio) if config.audio is not None else None

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m, net in MODALITY_NET.items() if getattr(self, net) is not None)

    def set_gradient_checkpointing(self, enabled: bool) -> None:
        for net in (self.unet_image, self.unet_text, self.unet_audio):
            if net is not None:
                net.gradient_checkpointing = enabled

    def subnet(self, modality: str) -> SubUNet:
        if modality not in MODALITY_NET:
            raise ValueError(f"unknown modality {modality!r}; expected one of {sorted(MODALITY_NET)}")
        net = getattr(self, MODALITY_NET[modality])
        if net is None:
            raise ValueError(f"this CoDi UNet has no {MODALITY_NET[modality]} (built for {self.modalities})")
        return net  # type: ignore[no-any-return]

    def forward(self, latents: Mapping[str, Tensor], timesteps: Tensor, context: Tensor,
                joint_mode: str | None = None) -> dict[str, Tensor]:
        return self.forward_with_environments(latents, timesteps, context, joint_mode)[0]

    def forward_with_environments(self, latents: Mapping[str, Tensor], timesteps: Tensor, context: Tensor,
                                  joint_mode: str | None = None) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """`forward`, and each output's pooled environment vector (B, D) (none for a single output):
        what a latent-alignment loss trains, without encoding the environments a second time."""
        mode = joint_mode or self.config.joint_mode
        if mode not in JOINT_MODES:
            raise ValueError(f"joint_mode {mode!r} is not one of {JOINT_MODES}")
        if not latents:
            raise ValueError("CodiUNet.forward: no latents given")
        nets = {m: self.subnet(m) for m in latents}
        timesteps = _batch_timesteps(timesteps, next(iter(latents.values())).shape[0])
        for m, x in latents.items():
            if x.ndim != MODALITY_NDIM[m]:
                raise ValueError(f"{m} latent must have {MODALITY_NDIM[m]} dims, got shape {tuple(x.shape)}")
            if x.shape[0] != timesteps.shape[0] or x.shape[0] != context.shape[0]:
                raise ValueError(f"batch sizes differ: {m} {x.shape[0]}, timesteps {timesteps.shape[0]}, "
                                 f"context {context.shape[0]}")

        # One timestep embedding per sub-network (image and video share theirs).
        embs: dict[int, Tensor] = {}
        for net in nets.values():
            if id(net) not in embs:
                embs[id(net)] = net.embed_time(timesteps)

        tokens: dict[str, Tensor | None] = dict.fromkeys(latents)
        envs: dict[str, Tensor] = {}
        if len(latents) > 1:
            envs = {m: nets[m].encode_environment(x, embs[id(nets[m])], context) for m, x in latents.items()}
            tokens = self._environment_tokens(envs, mode)
        skip = self.config.middle_self_skip
        outputs = {m: nets[m].denoise(x, embs[id(nets[m])], context, tokens[m], skip) for m, x in latents.items()}
        return outputs, envs

    @staticmethod
    def _environment_tokens(envs: dict[str, Tensor], mode: str) -> dict[str, Tensor | None]:
        """Pooled vectors (B, D) per output -> connector-attention tokens (B, N, D) per output."""
        if mode == "reference":
            return {m: v[:, None] for m, v in envs.items()}
        dims = {m: v.shape[-1] for m, v in envs.items()}
        if len(set(dims.values())) > 1:
            raise ValueError(f"cross joint mode needs equal connector widths, got {dims}")
        return {m: torch.stack([v for other, v in envs.items() if other != m], dim=1) for m in envs}


def _batch_timesteps(timesteps: Tensor, batch: int) -> Tensor:
    """A single (0-dim) timestep applies to the whole batch."""
    return timesteps.expand(batch) if timesteps.ndim == 0 else timesteps


def reference_forward(model: CodiUNet, x: Sequence[Tensor], timesteps: Tensor, condition: Sequence[Tensor],
                      xtype: Sequence[str], condition_types: Sequence[str],
                      mix_weight: Mapping[str, float]) -> list[Tensor]:
    """Call shaped like the reference UNetModelCoDi.forward (lists of latents / conditions,
    ``mix_weight`` keyed by condition type); always in "reference" joint mode."""
    if len(set(xtype)) != len(xtype):
        raise ValueError(f"each output modality may appear once, got xtype={list(xtype)}")
    if len(x) != len(xtype) or len(condition) != len(condition_types):
        raise ValueError("x/xtype and condition/condition_types must have equal lengths")
    missing = [t for t in condition_types if t not in mix_weight]
    if missing:
        raise ValueError(f"mix_weight has no weight for condition type(s) {missing}")
    context = mix_conditions(list(condition), [mix_weight[t] for t in condition_types])
    out = model(dict(zip(xtype, x)), timesteps, context, joint_mode="reference")
    return [out[t] for t in xtype]
