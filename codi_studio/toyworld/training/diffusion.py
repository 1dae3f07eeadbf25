"""The training side of diffusion: noising, v-prediction targets, min-SNR weights, EMA.

The beta schedule is the one the model config records and the samplers
(diffusers schedulers) rebuild, so training and sampling agree by
construction: `DDPMScheduler` computes the betas for us.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
from diffusers import DDPMScheduler


class NoiseSchedule:
    """alphas_cumprod for a named beta schedule, and the training-time algebra on it."""

    def __init__(self, beta_schedule: str, beta_start: float, beta_end: float, num_train_timesteps: int,
                 prediction_type: str = "v_prediction", min_snr_gamma: float = 5.0) -> None:
        if prediction_type not in ("epsilon", "v_prediction", "sample"):
            raise ValueError(f"unknown prediction_type {prediction_type!r}")
        scheduler = DDPMScheduler(num_train_timesteps=num_train_timesteps, beta_schedule=beta_schedule,
                                  beta_start=beta_start, beta_end=beta_end)
        self.alphas_cumprod = scheduler.alphas_cumprod.float()
        self.num_train_timesteps = num_train_timesteps
        self.prediction_type = prediction_type
        self.min_snr_gamma = min_snr_gamma

    def _coefficients(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.alphas_cumprod.to(like.device)[t]
        shape = (-1,) + (1,) * (like.ndim - 1)
        return a.sqrt().view(shape), (1 - a).sqrt().view(shape)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        s, sigma = self._coefficients(t, x0)
        return s * x0 + sigma * noise

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.prediction_type == "epsilon":
            return noise
        if self.prediction_type == "sample":
            return x0
        s, sigma = self._coefficients(t, x0)
        return s * noise - sigma * x0

    def loss_weight(self, t: torch.Tensor) -> torch.Tensor:
        """Min-SNR-gamma weights (Hang et al. 2023), expressed for the chosen prediction target;
        a gamma of 0 means none (every timestep weighs 1 on the target's own scale)."""
        if not self.min_snr_gamma:
            return torch.ones_like(t, dtype=torch.float32)
        snr = self.alphas_cumprod.to(t.device)[t] / (1 - self.alphas_cumprod.to(t.device)[t])
        clipped = snr.clamp(max=self.min_snr_gamma)
        if self.prediction_type == "epsilon":
            return clipped / snr
        if self.prediction_type == "sample":
            return clipped
        return clipped / (snr + 1)

    def sample_timesteps(self, n: int, generator: torch.Generator, low: int = 0) -> torch.Tensor:
        """n timesteps drawn uniformly from [low, num_train_timesteps)."""
        return torch.randint(low, self.num_train_timesteps, (n,), generator=generator)

    def loss(self, prediction: torch.Tensor, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Weighted MSE to the target, averaged over everything but the batch, then over the batch."""
        err = (prediction.float() - self.target(x0, noise, t).float()) ** 2
        per_sample = err.reshape(err.shape[0], -1).mean(dim=1)
        return (per_sample * self.loss_weight(t)).mean()


class EMA:
    """An exponential moving average of a module's trainable parameters and floating-point buffers.

    Frozen parameters (requires_grad False when the EMA is made) are copied once and never
    averaged: they cannot change, and the joint stage freezes all but the connectors.
    """

    def __init__(self, module: nn.Module, decay: float = 0.999, warmup: int = 10) -> None:
        self.shadow = copy.deepcopy(module).eval().requires_grad_(False)
        self.decay = decay
        self.warmup = warmup
        self.updates = 0
        trainable = {name for name, p in module.named_parameters() if p.requires_grad}
        live = module.state_dict(keep_vars=True)
        shadow = self.shadow.state_dict(keep_vars=True)
        buffers = {name for name, _ in module.named_buffers()}
        # tensors resolved once (detached views share the live storage the optimiser updates in
        # place): rebuilding state_dicts every step cost more than the average itself
        averaged = [n for n in live if n in trainable or (n in buffers and live[n].dtype.is_floating_point)]
        self._shadows = [shadow[n] for n in averaged]
        self._values = [live[n].detach() for n in averaged]
        self._copied = [(shadow[n], live[n]) for n in live
                        if n in buffers and not live[n].dtype.is_floating_point]

    @torch.no_grad()
    def update(self) -> None:
        """Average in the current values of the module the EMA was made from."""
        self.updates += 1
        # a short warm-up: early averages would otherwise be dominated by the random init
        decay = min(self.decay, (1 + self.updates) / (self.warmup + self.updates))
        if self._shadows:
            torch._foreach_lerp_(self._shadows, self._values, 1 - decay)
        for shadow, value in self._copied:
            shadow.copy_(value)
