"""Stage 2c: a fixed, pre-encoded training set for the diffusers.

Every training scene gets `cache_per_scene` samples; each sample's image, video,
audio and caption are encoded once by the frozen VAEs (scaled posterior means)
and the aligned encoders (CLIP / CLAP embeddings). The diffusers then train on
tensors only, which is most of what makes them affordable on a CPU. The
unconditional embeddings CoDi guides with are stored too: CLIP of "", of a
mid-grey picture and video (the reference's all-zero [-1,1] input), CLAP of silence.
"""

from __future__ import annotations

import torch

from codi_studio.toyworld import world
from codi_studio.toyworld.training import data
from codi_studio.toyworld.training.components import (
    AUDIO_SECONDS,
    audio_vae_config,
    image_vae_config,
    text_vae_config,
)
from codi_studio.toyworld.training.runner import RunContext, StageResult
from codi_studio.toyworld.training.stage_align import (
    encode_images,
    encode_texts,
    encode_videos,
    load_clap,
    load_clip,
)
from codi_studio.toyworld.training.tokenizer import Tokenizers
from codi_studio.toyworld.training.stage_text_vae import caption_batch

CHUNK = 32


def load_vaes(ctx: RunContext, tok: Tokenizers) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """The three trained VAEs, carrying the latent scale factors their stages measured."""
    from codi_studio.codi.autoencoders import AudioVAE, ImageVAE
    from codi_studio.codi.autoencoders.text_vae import TextVAE

    r = ctx.recipe
    image_vae = ImageVAE(image_vae_config(r, ctx.info("image_vae")["scale_factor"]))
    image_vae.load_state_dict(ctx.sub("image_vae", "image_vae"))
    audio_vae = AudioVAE(audio_vae_config(r, ctx.info("audio_vae")["scale_factor"]))
    audio_vae.load_state_dict(ctx.sub("audio_vae", "audio_vae"), strict=False)
    text_vae = TextVAE(text_vae_config(r, tok, ctx.info("text_vae")["scale_factor"]),
                       encoder_tokenizer=tok.encoder, decoder_tokenizer=tok.decoder)
    text_vae.load_state_dict(ctx.sub("text_vae", "text_vae"))
    return (image_vae.eval().requires_grad_(False), audio_vae.eval().requires_grad_(False),
            text_vae.eval().requires_grad_(False))


@torch.no_grad()
def run(ctx: RunContext, tok: Tokenizers) -> StageResult:
    r = ctx.recipe
    image_vae, audio_vae, text_vae = load_vaes(ctx, tok)
    clip, clap = load_clip(ctx, tok), load_clap(ctx)
    scenes = list(data.training_scenes()) * r.cache_per_scene
    order = ctx.rng.permutation(len(scenes))
    scenes = [scenes[i] for i in order]
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(scenes), CHUNK):
        chunk = scenes[start:start + CHUNK]
        drawn = world.batch(chunk, ctx.rng)
        images = data.images_to_tensor(drawn["image"])  # type: ignore[arg-type]
        videos = data.videos_to_tensor(drawn["video"])  # type: ignore[arg-type]
        waves = data.audio_to_tensor(drawn["audio"])  # type: ignore[arg-type]
        captions: list[str] = drawn["text"]  # type: ignore[assignment]
        ids, mask, _ = caption_batch(tok, captions)
        mean, _ = text_vae.posterior_from_ids(ids, mask)
        encoded = {
            "labels": torch.from_numpy(drawn["labels"]),  # type: ignore[arg-type]
            "image": image_vae.encode(images),
            "video": image_vae.encode(videos),
            "audio": audio_vae.encode(waves, AUDIO_SECONDS),
            "text": mean * text_vae.config.scaling_factor,
            "emb_text": encode_texts(clip, tok, captions)[:, 0],
            "emb_image": encode_images(clip, images)[:, 0],
            "emb_video": encode_videos(clip, videos)[:, 0],
            "emb_audio": clap.encode_audio(waves)[:, 0],
        }
        for k, v in encoded.items():
            parts.setdefault(k, []).append(v)
        ctx.say(f"encoded {min(start + CHUNK, len(scenes))}/{len(scenes)} samples")
    tensors = {k: torch.cat(v) for k, v in parts.items()}
    grey = torch.zeros(1, 3, world.IMAGE_SIZE, world.IMAGE_SIZE)
    tensors["uncond_text"] = encode_texts(clip, tok, [""])[:, 0]
    tensors["uncond_image"] = encode_images(clip, grey)[:, 0]
    tensors["uncond_video"] = encode_videos(clip, grey[:, :, None].expand(1, 3, world.VIDEO_FRAMES, -1, -1))[:, 0]
    tensors["uncond_audio"] = clap.encode_audio(torch.zeros(1, world.AUDIO_SAMPLES))[:, 0]
    stds = {k: round(float(tensors[k].std()), 3) for k in ("image", "video", "audio", "text")}
    ctx.say(f"latent stds {stds}")
    return StageResult(tensors, {"samples": len(scenes), "latent_std": stds})

