"""CoDi's own diffusion networks (written from the paper and the released code's behaviour).

Pipeline API
------------
``CodiUNet(config: CodiUNetConfig)`` holds ``unet_image`` (image and video), ``unet_text``,
``unet_audio``; any subset, from the config.

``CodiUNet.forward(latents: dict[str, Tensor], timesteps: Tensor, context: Tensor,
joint_mode: str | None = None) -> dict[str, Tensor]``
  - latents keys: 'image' (B,C,H,W), 'video' (B,C,F,H,W), 'text' (B,C), 'audio' (B,C,H,W);
    the result has the same keys and shapes (predicted noise, eps).
  - timesteps (B,) (int or float); context (B, tokens, context_dim).
  - one key = single-output generation (no connectors run); several = joint generation.
  - joint_mode None -> ``config.joint_mode``; "reference" = the released code (each output
    attends to its own pooled environment vector); "cross" = each output attends to the
    environment vectors of the other outputs.

``mix_conditions(conditions: list[Tensor], weights: list[float]) -> Tensor``: the composable
conditioning context sum_i c_i * w_i / sum(w); use it on CFG-doubled batches as they are.

``reference_forward(model, x, timesteps, condition, xtype, condition_types, mix_weight)``:
a call shaped like the reference ``UNetModelCoDi.forward`` (used by the parity tests).

Configs: ``CodiUNetConfig`` / ``UNet2DConfig`` / ``UNet0DConfig`` (``to_dict``/``from_dict``),
presets ``CodiUNetConfig.official()`` and ``CodiUNetConfig.tiny(...)``.
Key map (official checkpoint names): ``keymap.reference_key_to_ours`` / ``our_key_to_reference``;
``unet_state_dict_from_reference(checkpoint)`` picks and renames the UNet entries of a checkpoint.
Training: ``CodiUNetConfig(..., gradient_checkpointing=True)`` per sub-net, or
``CodiUNet.set_gradient_checkpointing(True)``; active only in ``.train()`` mode with grad.
Single sub-nets: ``net(x, timesteps, context, environment=None)``,
``net.embed_time``, ``net.encode_environment``, ``net.denoise``.

Loading the official nets::

    unet = CodiUNet(CodiUNetConfig.official())          # joint_mode "reference"
    unet.load_state_dict(unet_state_dict_from_reference(torch.load(path, weights_only=True)), strict=False)

Behaviour of the released code kept on purpose (the official weights were trained with it):
- ``middle_self_skip`` (config, default True): in the joint forward the first decoder block
  is fed the middle block's output twice instead of the last encoder skip (the released
  code's skip list aliases its running activations). Models trained here may turn it off.
- the video layers' attention norm runs over the frame axis (see ``temporal``).
- "reference" joint mode: each output attends only to its own environment vector, so the
  outputs of a joint call do not influence each other.
Differences: sub-nets are independent (the reference needs all three for joint calls and
zips their block lists); image/video frames run as (B*F, C, H, W) internally.
"""

from .codi import CodiUNet, mix_conditions, reference_forward
from .config import CodiUNetConfig, ConfigError, JOINT_MODES, UNet0DConfig, UNet2DConfig
from .keymap import our_key_to_reference, reference_key_to_ours, unet_state_dict_from_reference
from .unet0d import UNet0D
from .unet2d import UNet2D

__all__ = ["CodiUNet", "CodiUNetConfig", "ConfigError", "JOINT_MODES", "UNet0D", "UNet0DConfig", "UNet2D",
           "UNet2DConfig", "mix_conditions", "our_key_to_reference", "reference_forward", "reference_key_to_ours",
           "unet_state_dict_from_reference"]
