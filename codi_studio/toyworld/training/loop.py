"""One optimisation loop shared by every stage: AdamW, warm-up + cosine decay, clipping, EMA, logging."""

from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import torch
import torch.nn as nn

from codi_studio.toyworld.training.diffusion import EMA
from codi_studio.toyworld.training.runner import RunContext, TrainingError

# step -> (loss, {name: float} extra figures to log)
StepFn = Callable[[int], tuple[torch.Tensor, dict[str, float]]]


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def optimise(
    ctx: RunContext,
    params: Iterable[nn.Parameter],
    steps: int,
    lr: float,
    step_fn: StepFn,
    *,
    ema_of: nn.Module | None = None,
    ema_decay: float = 0.999,
    weight_decay: float = 0.0,
    clip: float = 1.0,
    log_every: int = 50,
) -> tuple[dict[str, float], EMA | None]:
    """Run `steps` optimiser steps; returns the last logged figures and the EMA (if asked)."""
    params = [p for p in params if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay, fused=True)
    ema = EMA(ema_of, decay=ema_decay) if ema_of is not None else None
    warmup = max(1, min(100, steps // 10))
    running: dict[str, float] = {}
    started = time.monotonic()
    last: dict[str, float] = {}
    for step in range(steps):
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        loss, extras = step_fn(step)
        if not torch.isfinite(loss):
            raise TrainingError(f"stage {ctx.stage_name}: loss became {loss.item()} at step {step}")
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
        optimiser.step()
        if ema is not None:
            ema.update()
        figures = {"loss": float(loss.detach()), **extras}
        for k, v in figures.items():
            running[k] = 0.9 * running.get(k, v) + 0.1 * v if k in running else v
        if (step + 1) % log_every == 0 or step + 1 == steps:
            elapsed = time.monotonic() - started
            shown = " ".join(f"{k} {v:.4f}" for k, v in running.items())
            ctx.say(f"step {step + 1}/{steps} {shown} ({elapsed:.0f} s)")
            last = dict(running)
    last["steps"] = steps
    return last, ema
