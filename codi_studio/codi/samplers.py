"""Samplers: diffusers schedulers driven by CoDi's joint, guided denoising loop.

The loop itself is CoDi's own (several latents of different modalities
denoised together, one batched UNet call per step for the conditional and
unconditional halves); the update rules come from diffusers.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from codi_studio.codi.cancel import CancelToken, GenerationCancelled

SAMPLER_NAMES = ("ddim", "dpmpp")

# denoise(latents, t) -> model output (eps, v or x0 as the model predicts) per modality
Denoiser = Callable[[dict[str, torch.Tensor], torch.Tensor], dict[str, torch.Tensor]]
# on_step(step_index, total, predicted clean latents per modality)
StepCallback = Callable[[int, int, Mapping[str, torch.Tensor]], None]


def make_scheduler(
    name: str,
    *,
    num_train_timesteps: int = 1000,
    beta_schedule: str = "scaled_linear",
    beta_start: float = 0.00085,
    beta_end: float = 0.012,
    prediction_type: str = "epsilon",
) -> SchedulerMixin:
    """A fresh scheduler; one per output modality, since multistep solvers keep state."""
    common = dict(
        num_train_timesteps=num_train_timesteps,
        beta_schedule=beta_schedule,
        beta_start=beta_start,
        beta_end=beta_end,
        prediction_type=prediction_type,
    )
    if name == "ddim":
        # CoDi's DDIM: uniform timesteps 1, 1+k, ... ("leading" + offset 1), eta 0, and the first
        # step's previous alpha is alphas_cumprod[0] rather than 1.
        ddim = DDIMScheduler(**common, timestep_spacing="leading", steps_offset=1,
                             set_alpha_to_one=False, clip_sample=False)
        exact = _alphas_cumprod_float64(beta_schedule, beta_start, beta_end, num_train_timesteps)
        if exact is not None:
            ddim.alphas_cumprod = exact
            ddim.final_alpha_cumprod = exact[0]
        return ddim
    if name == "dpmpp":
        return DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++", solver_order=2)
    raise ValueError(f"unknown sampler {name!r} (expected one of: {', '.join(SAMPLER_NAMES)})")


def _alphas_cumprod_float64(beta_schedule: str, beta_start: float, beta_end: float,
                            num_train_timesteps: int) -> torch.Tensor | None:
    """alphas_cumprod as CoDi's DDPM.register_schedule makes it: betas and their running product in
    float64, stored as float32. diffusers does both in float32, which drifts by up to ~1e-5
    (relative) over 1000 steps and moves sampled latents by ~1e-6 at guidance 7.5."""
    if beta_schedule == "scaled_linear":  # the reference's "linear"
        betas = torch.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, dtype=torch.float64) ** 2
    elif beta_schedule == "linear":  # the reference's "sqrt_linear"
        betas = torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
    else:
        return None
    return torch.cumprod(1.0 - betas, dim=0).to(torch.float32)


def predicted_clean(
    model_output: torch.Tensor, noisy: torch.Tensor, t: torch.Tensor, alphas_cumprod: torch.Tensor,
    prediction_type: str,
) -> torch.Tensor:
    """The clean latent the model currently points at (for previews)."""
    a = alphas_cumprod[int(t)].to(noisy.device, torch.float32)
    x, out = noisy.float(), model_output.float()
    if prediction_type == "epsilon":
        x0 = (x - (1 - a).sqrt() * out) / a.sqrt()
    elif prediction_type == "v_prediction":
        x0 = a.sqrt() * x - (1 - a).sqrt() * out
    else:
        x0 = out
    return x0.to(noisy.dtype)


def sample(
    denoise: Denoiser,
    noise: dict[str, torch.Tensor],
    *,
    sampler: str,
    steps: int,
    schedule: Mapping[str, object],
    cancel: CancelToken | None = None,
    on_step: StepCallback | None = None,
) -> dict[str, torch.Tensor]:
    """Denoise every modality's latent together from `noise`, `steps` steps.

    Each modality gets its own scheduler of the same kind so that their
    timesteps stay in lockstep while their solver state stays apart.
    """
    schedulers = {m: make_scheduler(sampler, **schedule) for m in noise}
    for s in schedulers.values():
        s.set_timesteps(steps, device=next(iter(noise.values())).device)
    first = next(iter(schedulers.values()))
    latents = {m: x * schedulers[m].init_noise_sigma for m, x in noise.items()}
    timesteps = first.timesteps
    total = len(timesteps)
    for i, t in enumerate(timesteps):
        if cancel is not None and cancel.cancelled:
            raise GenerationCancelled(f"cancelled at step {i} of {total}")
        model_in = {m: schedulers[m].scale_model_input(x, t) for m, x in latents.items()}
        out = denoise(model_in, t)
        predicted: dict[str, torch.Tensor] = {}
        for m in latents:
            if on_step is not None:
                predicted[m] = predicted_clean(out[m], latents[m], t, first.alphas_cumprod, first.config.prediction_type)
            latents[m] = schedulers[m].step(out[m], t, latents[m], return_dict=True).prev_sample
        if on_step is not None:
            on_step(i + 1, total, predicted)
    return latents
