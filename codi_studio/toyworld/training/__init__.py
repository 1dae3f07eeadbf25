"""The training recipe of the embedded default model: a tiny CoDi on the toy world.

`train(out, preset="toy", seed=0, minutes_scale=1.0)` runs CoDi's stages at toy
scale, one checkpoint per stage under `out/stages/` (a rerun skips finished
stages), logs to `out/train.log`, and writes the model folder `out/model/`
(copy it to models/toy-v1 to ship it):

 1. image_vae, audio_vae, text_vae   the autoencoders of each modality
 2. clip, clap                       encoders aligned into one space, text as the bridge
    cache                            the training set encoded once into latents and embeddings
 3. unet_image, unet_audio, unet_text  per-modality diffusers with composable conditioning
 4. joint                            the connectors for joint generation (cross mode), the rest frozen
 5. export                           the model folder

Same seed, same preset, same threads per stage (same --threads, or same --jobs) -> the same weights. `init_from` (an earlier run
folder) starts the diffusers and connectors from that run's checkpoints: more training, not a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import torch

from codi_studio.toyworld.training.recipe import PRESETS, ToyRecipe
from codi_studio.toyworld.training.runner import RunContext, Stage, TrainingError, run_stages
from codi_studio.toyworld.training.tokenizer import Tokenizers, write_tokenizers

__all__ = ["PRESETS", "ToyRecipe", "TrainingError", "stage_names", "train"]


STAGE_NAMES = ("image_vae", "audio_vae", "text_vae", "clip", "clap", "cache", "unet_image", "unet_audio",
               "unet_text", "joint", "export")


def build_stages(tok: Tokenizers) -> list[Stage]:
    """The stages in order, each with the earlier stages it reads (`needs`, what the parallel runner waits for)."""
    from codi_studio.toyworld.training import (
        export,
        stage_align,
        stage_audio_vae,
        stage_cache,
        stage_diffusion,
        stage_image_vae,
        stage_text_vae,
    )
    encoders = ("image_vae", "audio_vae", "text_vae", "clip", "clap")
    diffusers = ("unet_image", "unet_audio", "unet_text")
    stages = [
        Stage("image_vae", stage_image_vae.run),
        Stage("audio_vae", stage_audio_vae.run),
        Stage("text_vae", lambda ctx: stage_text_vae.run(ctx, tok)),
        Stage("clip", lambda ctx: stage_align.run_clip(ctx, tok)),
        Stage("clap", lambda ctx: stage_align.run_clap(ctx, tok), needs=("clip",)),
        Stage("cache", lambda ctx: stage_cache.run(ctx, tok), needs=encoders),
        *(Stage(name, lambda ctx, name=name: stage_diffusion.run_unet(ctx, name), needs=("cache",))
          for name in diffusers),
        Stage("joint", stage_diffusion.run_joint, needs=diffusers),
        Stage("export", lambda ctx: export.run(ctx, {n: ctx.info(n) for n in STAGE_NAMES[:-1]}),
              needs=STAGE_NAMES[:-1]),
    ]
    assert tuple(s.name for s in stages) == STAGE_NAMES
    return stages


# the order in which ready stages get a free process: longest first, so the slowest chain starts earliest
PARALLEL_PRIORITY = ("clip", "image_vae", "unet_image", "clap", "audio_vae", "unet_audio", "text_vae", "unet_text",
                     "cache", "joint", "export")


def stage_names() -> tuple[str, ...]:
    return STAGE_NAMES


def train(out: str | Path, preset: str = "toy", seed: int = 0, minutes_scale: float = 1.0,
          threads: int | None = 1, progress: Callable[[str], None] | None = None,
          recipe: ToyRecipe | None = None, init_from: str | Path | None = None, jobs: int = 1) -> Path:
    """Run (or resume) every stage; returns the model folder.

    `jobs` > 1 runs independent stages at the same time, one process (and one torch thread) each,
    and gives the bottleneck stages (those nothing can run beside, found from the stage graph)
    `jobs` threads; a stage's weights are those of a sequential run with the same thread count for it.
    """
    if recipe is None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r} (expected one of: {', '.join(PRESETS)})")
        recipe = PRESETS[preset]().scaled(minutes_scale)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    logger = logging.getLogger("codi_studio.train")
    handler = logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def say(message: str) -> None:
        logger.info(message)
        if progress is not None:
            progress(message)

    try:
        say(f"training preset {recipe.name} seed {seed} into {out}")
        # written once here; parallel children only load them
        stages = build_stages(write_tokenizers(out / "tokenizers"))
        start = Path(init_from) if init_from is not None else None
        if jobs > 1:
            from codi_studio.toyworld.training.parallel import run_parallel

            run_parallel(stages, PARALLEL_PRIORITY, jobs, out, recipe, seed, start, say)
        else:
            run_stages(stages, RunContext(recipe, out, seed, say, start))
    finally:
        logger.removeHandler(handler)
        handler.close()
    return out / "model"
