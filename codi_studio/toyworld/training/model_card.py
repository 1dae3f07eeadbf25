"""MODEL_CARD.md for a trained toy model: what it learned from, how, how long, how well."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codi_studio.codi.config import ModelConfig

STAGE_TEXT = {
    "image_vae": "image/video-frame KL-VAE (diffusers AutoencoderKL layout), 64x64 RGB -> 8x8x8 latents",
    "audio_vae": "audio mel VAE, 1 s log-mel (104 frames x 64 mels, AudioLDM front-end) -> 8x26x16 latents",
    "text_vae": "Optimus text VAE (BERT encoder + GPT-2 decoder with latent injection) on captions, "
                "auxiliary attribute heads on the posterior (dropped after training)",
    "clip": "CLIP text/image/video towers (+ CoDi's temporal layers), contrastive text<->image and "
            "text<->video, plus partial captions per attribute",
    "clap": "CLAP audio tower (HTSAT), contrastive audio<->frozen CLIP text, plus partial captions",
    "cache": "training set encoded once into latents and embeddings",
    "unet_image": "image+video diffuser, composable conditioning, CFG dropout",
    "unet_audio": "audio diffuser, composable conditioning, CFG dropout",
    "unet_text": "text diffuser, composable conditioning, CFG dropout",
    "joint": "environment encoders + connector attention (cross mode), everything else frozen; "
             "contrastive alignment of paired outputs' environment vectors",
    "export": "model folder",
}


def stage_table(training: dict[str, Any]) -> str:
    rows = ["| stage | what | steps | final loss | seconds | threads |", "| --- | --- | --- | --- | --- | --- |"]
    for name, info in training.get("stages", {}).items():
        final = info.get("final", {})
        loss = f"{final['loss']:.4f}" if "loss" in final else ""
        rows.append(f"| {name} | {STAGE_TEXT.get(name, '')} | {final.get('steps', '')} | {loss} | "
                    f"{info.get('seconds', '')} | {info.get('threads', '')} |")
    return "\n".join(rows)


def retrieval_text(retrieval: dict[str, float]) -> str:
    """{'image_seen': 0.98, 'image_held_out': 1.0, ...} -> 'image 0.98 / 1.00, video ...' (seen / held-out)."""
    if not retrieval:
        return "n/a"
    kinds = dict.fromkeys(k.rsplit("_seen", 1)[0] for k in retrieval if k.endswith("_seen"))
    parts = [f"{k} {retrieval[f'{k}_seen']:.2f} / {retrieval.get(f'{k}_held_out', float('nan')):.2f}" for k in kinds]
    return ", ".join(parts) + " (seen / held-out scenes)"


def attributes_text(judged: dict[str, float] | None) -> str:
    """{'shape': 1.0, 'color': 0.97} -> 'shape 1.00, color 0.97'."""
    return ", ".join(f"{k} {v:.2f}" for k, v in judged.items()) if judged else "n/a"


def threads_text(stages: dict[str, Any]) -> str:
    """How many CPU threads the stages had, as recorded: one each, more for the bottleneck stages."""
    wide: dict[int, list[str]] = {}
    for name, info in stages.items():
        if int(info.get("threads", 1)) > 1:
            wide.setdefault(int(info["threads"]), []).append(name)
    text = "one process and one CPU thread each"
    for count, names in sorted(wide.items()):
        text += f", {count} threads for {', '.join(names)}"
    return text + (", which nothing runs beside" if wide else "")


def schedule_text(stages: dict[str, Any]) -> str:
    """How the run was scheduled, read from the recorded thread counts: a parallel run (`--jobs K`)
    gives its bottleneck stages K threads and the others one; a sequential run gives all the same."""
    counts = {int(info.get("threads", 1)) for info in stages.values()} or {1}
    if len(counts) == 1:
        count = counts.pop()
        return f"one stage at a time on {count} CPU thread{'s' * (count > 1)}"
    return f"independent stages {max(counts)} at a time ({threads_text(stages)})"


def render(config: ModelConfig, eval_table: str, eval_note: str, notes: str = "") -> str:
    training = config.extras.get("training", {})
    stages = training.get("stages", {})
    total_min = sum(float(i.get("seconds", 0)) for i in stages.values()) / 60
    retrieval = stages.get("clip", {}).get("retrieval", {})
    text_judged = stages.get("text_vae", {}).get("reconstruction_judged")
    image_judged = stages.get("image_vae", {}).get("reconstruction_judged")
    recipe = training.get("recipe", {})
    min_snr = f"min-SNR-{recipe['min_snr_gamma']:g}" if "min_snr_gamma" in recipe else "min-SNR"
    return f"""# {config.name} (`{config.id}`)

The embedded default model of CoDi Studio: a tiny CoDi (Tang et al. 2023, "Any-to-Any
Generation via Composable Diffusion") built from the project's one CoDi implementation
(the same classes as the official full-size model) at a toy size, trained from scratch on
CPU on the procedural toy world (docs: toyworld.md, world version {training.get('world_version', 1)}).
It turns any mix of text, image, audio and video into any of them, jointly or one at a time.
It knows only the toy world: one coloured shape moving on a day or night backdrop.

## Training data
Samples of the 88 training scenes of the toy world (3 shapes x 4 colours x 4 motions x 2
backdrops, minus the 8 held-out scenes, which never appear in training), drawn fresh with
the world's jitter by `codi_studio.toyworld.world.batch`; the diffusers train on a fixed
set of {training.get('recipe', {}).get('cache_per_scene', '?')} samples per scene, encoded once.
Captions follow the world's grammar; a word-level tokenizer covers its vocabulary.

## How it was trained
`codi-studio train --preset toy` (codi_studio/toyworld/training), CoDi's stages at toy scale,
seed {training.get("seed", "?")}, {schedule_text(stages)},
{total_min:.0f} minutes of stage time in all (summed over stages) on a 2-core machine:

{stage_table(training)}

- prediction type `{config.prediction_type}` with {min_snr} loss weights (none in the joint stage), the
  `{config.beta_schedule}` beta schedule ({config.beta_start}..{config.beta_end}, {config.num_train_timesteps} steps), EMA weights;
- conditions: one pooled, L2-normalised embedding per input (CLIP text/image/video, CLAP audio),
  mixed as CoDi does (weighted mean); training draws 1-3 conditions with random weights, and
  replaces them with the unconditional mix (CLIP of "" / grey picture, CLAP of silence) 10 % of the time;
- joint generation: connectors trained in `{config.joint_mode}` mode on pairs of outputs of one sample
  (image+video under audio-only conditions the most often, so that both pick the same backdrop),
  at timesteps {recipe.get('joint_min_timestep', '?')}-{config.num_train_timesteps - 1}, where joint outputs settle what no input fixes, with a contrastive loss
  that makes the environment vectors of a pair pick each other out (otherwise they stay the
  same for every input and the connectors carry nothing);
- vocoder: Griffin-Lim (no parameters).

{notes}

Encoder check after alignment (how often a picture's nearest of the 96 scene captions is its own):
{retrieval_text(retrieval)}.
Autoencoder round trips judged by the world's judges (fraction of each attribute still read):
image VAE {attributes_text(image_judged)}; text VAE (greedy decoding) {attributes_text(text_judged)}.

## Evaluation
{eval_note}

{eval_table}

## Limits
- 64x64 pictures, 8-frame clips at 8 fps, 1 s sound at 16 kHz (Griffin-Lim quality), captions of the toy grammar only.
- Trained from scratch in about {total_min:.0f} minutes of CPU stage time: see the evaluation for where it errs.
  Not a general-purpose model.
"""


def write(folder: Path, eval_table: str = "(no evaluation run yet)",
          eval_note: str = "Not evaluated yet.", notes: str = "") -> Path:
    config = ModelConfig.load(folder)
    path = Path(folder) / "MODEL_CARD.md"
    path.write_text(render(config, eval_table, eval_note, notes))
    return path
