"""The last stage: the trained parts assembled into a model folder that `CodiModel.open` loads.

Layout (docs/ARCHITECTURE.md): config.json, one safetensors per component,
tokenizers/, MODEL_CARD.md (written separately), hashes.json.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from codi_studio.codi.config import ComponentSpec, Geometry, ModelConfig
from codi_studio.codi.model_store import write_hashes
from codi_studio.toyworld import world
from codi_studio.toyworld.training.components import (
    AUDIO_MEL_FRAMES,
    AUDIO_SECONDS,
    audio_vae_config,
    clap_config,
    clip_config,
    image_vae_config,
    text_vae_config,
    unet_config,
    vocoder_config,
)
from codi_studio.toyworld.training.runner import RunContext, StageResult
from codi_studio.toyworld.training.tokenizer import MAX_LENGTH, Tokenizers, write_tokenizers

MODEL_ID = "toy-v1"
DEFAULTS = {"steps": 20, "guidance": 4.0, "sampler": "dpmpp"}


def model_config(ctx: RunContext, tok: Tokenizers, model_id: str, infos: dict[str, Any]) -> ModelConfig:
    r = ctx.recipe
    unet = unet_config(r)
    image_vae = image_vae_config(r, ctx.info("image_vae")["scale_factor"])
    audio_vae = audio_vae_config(r, ctx.info("audio_vae")["scale_factor"])
    text_vae = text_vae_config(r, tok, ctx.info("text_vae")["scale_factor"])
    comps = {
        "unet": ComponentSpec("codi_unet", unet.to_dict(), "unet.safetensors"),
        "image_vae": ComponentSpec("image_vae", image_vae.to_dict(), "image_vae.safetensors"),
        "audio_vae": ComponentSpec("audio_vae", audio_vae.to_dict(), "audio_vae.safetensors"),
        "vocoder": ComponentSpec("vocoder", vocoder_config().to_dict(), None),
        "text_vae": ComponentSpec("text_vae", text_vae.to_dict(), "text_vae.safetensors"),
        "clip": ComponentSpec("clip", clip_config(r, tok).to_dict(), "clip.safetensors"),
        "clap": ComponentSpec("clap", clap_config(r).to_dict(), "clap.safetensors"),
    }
    side = world.IMAGE_SIZE // image_vae.downsample_factor
    latent_shapes = {
        "image": [image_vae.latent_channels, side, side],
        "video": [image_vae.latent_channels, world.VIDEO_FRAMES, side, side],
        "audio": [audio_vae.latent_channels, AUDIO_MEL_FRAMES // audio_vae.downsample_factor,
                  audio_vae.mel.n_mels // audio_vae.downsample_factor],
        "text": [text_vae.latent_size],
    }
    geometry = Geometry(image_size=world.IMAGE_SIZE, video_frames=world.VIDEO_FRAMES, video_fps=world.VIDEO_FPS,
                        audio_rate=world.SAMPLE_RATE, audio_seconds=AUDIO_SECONDS, text_max_length=MAX_LENGTH)
    training = {"recipe": r.to_dict(), "seed": ctx.seed, "world_version": world.WORLD_VERSION,
                "stages": {k: {kk: vv for kk, vv in v.items() if kk != "done"} for k, v in infos.items()}}
    return ModelConfig(id=model_id, name="CoDi toy v1 (toy world, CPU-trained)", components=comps,
                       joint_mode="cross", prediction_type=r.prediction_type, beta_schedule="scaled_linear",
                       beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000, geometry=geometry,
                       extras={"defaults": DEFAULTS, "latent_shapes": latent_shapes, "training": training})


def write_model(ctx: RunContext, folder: Path, infos: dict[str, Any], model_id: str = MODEL_ID) -> Path:
    """Write the model folder from the finished stages (replacing an older one atomically)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    tok = write_tokenizers(tmp / "tokenizers")
    parts = {
        "unet": ctx.sub("joint", "unet"),
        "image_vae": ctx.sub("image_vae", "image_vae"),
        "audio_vae": ctx.sub("audio_vae", "audio_vae"),
        "text_vae": ctx.sub("text_vae", "text_vae"),
        "clip": ctx.sub("clip", "clip"),
        "clap": ctx.sub("clap", "clap"),
    }
    for name, state in parts.items():
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / f"{name}.safetensors"))
    model_config(ctx, tok, model_id, infos).save(tmp)
    write_hashes(tmp)
    card = folder / "MODEL_CARD.md"
    if card.exists():  # a hand-written card survives retraining
        shutil.copy2(card, tmp / "MODEL_CARD.md")
    if folder.exists():
        shutil.rmtree(folder)
    tmp.replace(folder)
    return folder


def run(ctx: RunContext, infos: dict[str, Any]) -> StageResult:
    folder = write_model(ctx, ctx.out / "model", infos)
    ctx.say(f"model written to {folder}")
    return StageResult({}, {"folder": str(folder)})
