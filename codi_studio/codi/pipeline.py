"""CodiPipeline: any weighted mix of inputs -> any set of outputs, jointly.

What is CoDi's own lives here: each input is encoded into the shared
conditioning space (CLIP for text, images and video; CLAP for audio), the
encodings are mixed by weighted interpolation (composable conditioning), and
all requested outputs are denoised together, their UNets joined through the
connector layers (joint generation), with classifier-free guidance computed on
one batch holding the unconditional and conditional halves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch

from codi_studio.codi import modality_io as mio
from codi_studio.codi.config import ModelConfig
from codi_studio.codi.model import CodiModel
from codi_studio.codi.samplers import Denoiser, sample
from codi_studio.media.values import MediaValue, Modality
from codi_studio.codi.cancel import CancelToken

# step, total, previews (modality -> media value) for the first sample
PreviewCallback = Callable[[int, int, Mapping[Modality, MediaValue]], None]


@dataclass(frozen=True)
class PipelineOutput:
    samples: list[dict[Modality, MediaValue]]
    timings: dict[str, float]


class CodiPipeline:
    def __init__(self, model: CodiModel) -> None:
        self.model = model
        self.io = mio.ModalityIO(model)

    # ---- conditioning -------------------------------------------------------------------------------
    def encode_conditions(
        self, conditions: Sequence[tuple[MediaValue, float]], n: int
    ) -> torch.Tensor:
        """One (2n, tokens, dim) context: the unconditional mix, then the conditional mix.

        Composable conditioning as CoDi does it: sum_i c_i * w_i / sum_i w_i, over the
        conditional encodings and, separately, over their unconditional counterparts.
        """
        if not conditions:
            raise ValueError("at least one input is needed")
        weights = [float(w) for _, w in conditions]
        if sum(weights) <= 0:
            raise ValueError("the input weights add up to zero: give at least one input a positive weight")
        cond, uncond = [], []
        for value, _ in conditions:
            c, u = self.io.encode(value, n)
            cond.append(c)
            uncond.append(u)
        return guidance_context(cond, uncond, weights)

    # ---- generation ---------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        conditions: Sequence[tuple[MediaValue, float]],
        outputs: Sequence[Modality],
        *,
        seed: int = 0,
        steps: int = 50,
        guidance: float = 7.5,
        sampler: str = "ddim",
        n_samples: int = 1,
        joint_mode: str | None = None,
        cancel: CancelToken | None = None,
        on_step: PreviewCallback | None = None,
        preview_every: int = 5,
    ) -> PipelineOutput:
        """Denoise `outputs` jointly from the weighted `conditions`; `preview_every` 0 skips previews."""
        outputs = [Modality(m) for m in outputs]
        if not outputs:
            raise ValueError("ask for at least one output modality")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        context = self.encode_conditions(conditions, n_samples)
        timings["encode_s"] = time.perf_counter() - t0

        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        noise = {m.value: torch.randn(self.io.latent_shape(m, n_samples), generator=generator)
                 .to(self.model.device, self.model.dtype) for m in outputs}
        unet = self.model.unet(m.value for m in outputs)
        denoise = guided_denoiser(unet, context, guidance, joint_mode or self.model.config.joint_mode)

        def step_callback(step: int, total: int, predicted: Mapping[str, torch.Tensor]) -> None:
            if on_step is None:
                return
            previews: dict[Modality, MediaValue] = {}
            if preview_every > 0 and (step % preview_every == 0 or step == total):
                previews = self.io.previews({Modality(m): x[:1] for m, x in predicted.items()})
            on_step(step, total, previews)

        t1 = time.perf_counter()
        latents = sample(
            denoise,
            noise,
            sampler=sampler,
            steps=steps,
            schedule=noise_schedule(self.model.config),
            cancel=cancel,
            on_step=step_callback,
        )
        timings["sample_s"] = time.perf_counter() - t1
        timings["seconds_per_step"] = timings["sample_s"] / max(steps, 1)

        t2 = time.perf_counter()
        decoded = {Modality(m): self.io.decode(Modality(m), z, generator) for m, z in latents.items()}
        timings["decode_s"] = time.perf_counter() - t2
        samples = [{m: values[i] for m, values in decoded.items()} for i in range(n_samples)]
        timings["total_s"] = time.perf_counter() - t0
        return PipelineOutput(samples, timings)


def guidance_context(conditional: Sequence[torch.Tensor], unconditional: Sequence[torch.Tensor],
                     weights: Sequence[float]) -> torch.Tensor:
    """One (2n, tokens, dim) context for a guided batch: the unconditional mix, then the conditional mix.

    Composable conditioning as CoDi does it: sum_i c_i * w_i / sum_i w_i, over the conditional
    encodings and, separately, over their unconditional counterparts (tokens broadcast: a
    1-token audio encoding mixes with 77-token text).
    """
    from codi_studio.codi.unet import mix_conditions

    context_c = mix_conditions(list(conditional), list(weights))
    context_u = mix_conditions(list(unconditional), list(weights))
    tokens = max(context_c.shape[1], context_u.shape[1])
    context_c = context_c.expand(-1, tokens, -1) if context_c.shape[1] == 1 else context_c
    context_u = context_u.expand(-1, tokens, -1) if context_u.shape[1] == 1 else context_u
    return torch.cat([context_u, context_c])


def guided_denoiser(unet: torch.nn.Module, context: torch.Tensor, guidance: float, joint_mode: str) -> Denoiser:
    """The per-step model call of `sample`, with classifier-free guidance.

    `context` is `guidance_context`'s (2n, ...) batch. With guidance != 1 the latents are doubled
    so that one UNet call computes the unconditional and conditional halves, combined as
    u + guidance * (c - u); with guidance 1 only the conditional half runs.
    """
    do_cfg = guidance != 1.0
    if not do_cfg:
        context = context[context.shape[0] // 2:]

    def denoise(latents: dict[str, torch.Tensor], t: torch.Tensor) -> dict[str, torch.Tensor]:
        first = next(iter(latents.values()))
        batch = first.shape[0] * (2 if do_cfg else 1)
        doubled = {m: torch.cat([x, x]) if do_cfg else x for m, x in latents.items()}
        timesteps = torch.full((batch,), int(t), device=first.device, dtype=torch.long)
        out = unet(doubled, timesteps, context, joint_mode=joint_mode)
        if not do_cfg:
            return out
        guided = {}
        for m, y in out.items():
            u, c = y.chunk(2)
            guided[m] = u + guidance * (c - u)
        return guided

    return denoise


def noise_schedule(config: ModelConfig) -> dict[str, object]:
    """The `schedule` argument of `sample` for a model."""
    return dict(num_train_timesteps=config.num_train_timesteps, beta_schedule=config.beta_schedule,
                beta_start=config.beta_start, beta_end=config.beta_end, prediction_type=config.prediction_type)
