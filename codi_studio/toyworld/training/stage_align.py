"""Stage 2: the encoders aligned into one shared space, text as the bridge (CoDi's "bridging alignment").

2a CLIP: text <-> image and text <-> video, contrastive, all towers trained.
2b CLAP: audio <-> the frozen CLIP text embeddings, contrastive.
Both also match each input to partial captions ("red", "moving up", ...; see PARTIAL_CAPTIONS).

The toy world repeats scenes within a batch, so plain InfoNCE (one positive per
row) would push apart captions and pictures of the same scene. Targets are soft
instead: softmax(TARGET_SHARPNESS * number of attributes two samples share),
computed over the attributes both modalities carry (audio has no backdrop). The
same scene dominates, and partial matches sit closer than strangers, which keeps
the space compositional for scenes never seen in training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from codi_studio.codi.encoders import ClapEncoder, ClipEncoder
from codi_studio.toyworld import world
from codi_studio.toyworld.training import data
from codi_studio.toyworld.training.components import build_clap, build_clip
from codi_studio.toyworld.training.loop import optimise
from codi_studio.toyworld.training.runner import RunContext, StageResult, state_with_prefix
from codi_studio.toyworld.training.tokenizer import MAX_LENGTH, Tokenizers

TARGET_SHARPNESS = 2.0
AUDIBLE = ("shape", "color", "motion")  # audio carries no backdrop
AUDIO_ATTRIBUTES = [world.ATTRIBUTES.index(a) for a in AUDIBLE]
# Partial captions, one per value of each attribute. Whole-caption contrast lets an encoder
# settle for the easy attributes (colour, backdrop) and never see a faint trail: measured,
# motion stayed at chance in image embeddings after 2400 steps. Matching each picture to
# the right partial caption among an attribute's values makes every attribute pay.
PARTIAL_CAPTIONS: dict[str, tuple[str, ...]] = {
    "shape": world.SHAPES,
    "color": world.COLORS,
    "motion": tuple(f"moving {m}" for m in world.MOTIONS),
    "backdrop": ("in daylight", "at night"),
}


def soft_targets(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    shared = (labels_a[:, None, :] == labels_b[None, :, :]).sum(dim=-1).float()
    return torch.softmax(TARGET_SHARPNESS * shared, dim=1)


def contrastive(a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric soft-target InfoNCE between (B,1,D) unit embeddings a and b."""
    logits = logit_scale.exp().clamp(max=100) * a[:, 0] @ b[:, 0].T
    targets = soft_targets(labels, labels)
    loss_ab = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss_ba = -(targets.T * F.log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return 0.5 * (loss_ab + loss_ba)


def partial_caption_loss(emb: torch.Tensor, labels: torch.Tensor, partial: dict[str, torch.Tensor],
                         logit_scale: torch.Tensor, attributes: tuple[str, ...] = world.ATTRIBUTES) -> torch.Tensor:
    """Mean over attributes of cross-entropy between (B,1,D) embeddings and that attribute's partial captions."""
    scale = logit_scale.exp().clamp(max=100)
    losses = [F.cross_entropy(scale * emb[:, 0] @ partial[a][:, 0].T, labels[:, world.ATTRIBUTES.index(a)])
              for a in attributes]
    return torch.stack(losses).mean()


def encode_partial_captions(clip: ClipEncoder, tok: Tokenizers) -> dict[str, torch.Tensor]:
    texts = [t for values in PARTIAL_CAPTIONS.values() for t in values]
    encoded = encode_texts(clip, tok, texts)
    out, start = {}, 0
    for attribute, values in PARTIAL_CAPTIONS.items():
        out[attribute] = encoded[start:start + len(values)]
        start += len(values)
    return out


def clip_pixels(clip: ClipEncoder, frames: torch.Tensor) -> torch.Tensor:
    """(...,3,H,W) in [-1,1] at the CLIP size -> CLIP-normalised, as ModalityIO prepares inputs."""
    mean = torch.tensor(clip.config.image_mean).view(3, 1, 1)
    std = torch.tensor(clip.config.image_std).view(3, 1, 1)
    return ((frames + 1) / 2 - mean) / std


def encode_texts(clip: ClipEncoder, tok: Tokenizers, captions: list[str]) -> torch.Tensor:
    ids = tok.clip(captions, truncation=True, max_length=MAX_LENGTH, padding="max_length",
                   return_tensors="pt")["input_ids"]
    return clip.encode_tokens(ids)


def encode_images(clip: ClipEncoder, images: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) in [-1,1] -> (B,1,D)."""
    return clip.encode_image(clip_pixels(clip, images))


def encode_videos(clip: ClipEncoder, videos: torch.Tensor) -> torch.Tensor:
    """(B,3,F,H,W) in [-1,1] -> (B,1,D)."""
    return clip.encode_video(clip_pixels(clip, videos.permute(0, 2, 1, 3, 4)))


def run_clip(ctx: RunContext, tok: Tokenizers) -> StageResult:
    r = ctx.recipe
    clip = build_clip(r, tok)
    clip.train()
    scale = clip.model.logit_scale

    def step(i: int) -> tuple[torch.Tensor, dict[str, float]]:
        drawn = data.draw(ctx.rng, r.clip_batch, ("image", "video", "text"))
        labels = torch.from_numpy(drawn["labels"])  # type: ignore[arg-type]
        text = encode_texts(clip, tok, drawn["text"])  # type: ignore[arg-type]
        image = encode_images(clip, data.images_to_tensor(drawn["image"]))  # type: ignore[arg-type]
        # video costs 8 frames per sample: half the batch is enough
        half = r.clip_batch // 2
        video = encode_videos(clip, data.videos_to_tensor(drawn["video"][:half]))  # type: ignore[index]
        partial = encode_partial_captions(clip, tok)
        l_image = contrastive(text, image, labels, scale)
        l_video = contrastive(text[:half], video, labels[:half], scale)
        l_parts = partial_caption_loss(image, labels, partial, scale) + partial_caption_loss(
            video, labels[:half], partial, scale)
        return l_image + l_video + l_parts, {"image": float(l_image.detach()), "video": float(l_video.detach()),
                                             "parts": float(l_parts.detach())}

    figures, _ = optimise(ctx, clip.parameters(), r.clip_steps, r.clip_lr, step, log_every=25)
    clip.eval()
    accuracy = retrieval_accuracy(ctx, clip, tok)
    ctx.say(f"text->image/video attribute retrieval {accuracy}")
    return StageResult(state_with_prefix("clip", clip.state_dict()), {"final": figures, "retrieval": accuracy})


@torch.no_grad()
def retrieval_accuracy(ctx: RunContext, clip: ClipEncoder, tok: Tokenizers) -> dict[str, float]:
    """How often a picture's nearest caption among one per scene (all 96) is its own scene."""
    captions = [f"a {s.color} {s.shape} moving {s.motion} {'in daylight' if s.backdrop == 'day' else 'at night'}"
                for s in world.SCENES]
    text = encode_texts(clip, tok, captions)[:, 0]
    scenes = list(world.SCENES)
    drawn = world.batch(scenes, ctx.rng, ("image", "video"))
    image = encode_images(clip, data.images_to_tensor(drawn["image"]))[:, 0]  # type: ignore[arg-type]
    video = encode_videos(clip, data.videos_to_tensor(drawn["video"]))[:, 0]  # type: ignore[arg-type]
    truth = torch.arange(len(scenes))
    held = torch.tensor([s in world.HELD_OUT for s in scenes])
    out = {}
    for name, emb in (("image", image), ("video", video)):
        hit = ((emb @ text.T).argmax(dim=1) == truth).float()
        out[f"{name}_seen"] = round(float(hit[~held].mean()), 3)
        out[f"{name}_held_out"] = round(float(hit[held].mean()), 3)
    return out


def run_clap(ctx: RunContext, tok: Tokenizers) -> StageResult:
    r = ctx.recipe
    clip = build_clip(r, tok)
    clip.load_state_dict(ctx.sub("clip", "clip"))
    clip.eval().requires_grad_(False)
    clap = build_clap(r)
    clap.train()
    logit_scale = torch.nn.Parameter(torch.tensor(2.6592))  # ln(1/0.07), CLIP's initial temperature
    with torch.no_grad():
        partial = encode_partial_captions(clip, tok)

    def step(i: int) -> tuple[torch.Tensor, dict[str, float]]:
        drawn = data.draw(ctx.rng, r.clap_batch, ("audio", "text"))
        labels = torch.from_numpy(drawn["labels"])[:, AUDIO_ATTRIBUTES]  # type: ignore[arg-type]
        with torch.no_grad():
            text = encode_texts(clip, tok, drawn["text"])  # type: ignore[arg-type]
        audio = clap.encode_audio(data.audio_to_tensor(drawn["audio"]))  # type: ignore[arg-type]
        l_whole = contrastive(audio, text, labels, logit_scale)
        l_parts = partial_caption_loss(audio, torch.from_numpy(drawn["labels"]), partial,  # type: ignore[arg-type]
                                       logit_scale, AUDIBLE)
        return l_whole + l_parts, {"whole": float(l_whole.detach()), "parts": float(l_parts.detach())}

    figures, _ = optimise(ctx, list(clap.parameters()) + [logit_scale], r.clap_steps, r.clap_lr, step, log_every=25)
    clap.eval()
    state = {k: v for k, v in clap.state_dict().items() if not k.startswith("frontend.")}
    return StageResult(state_with_prefix("clap", state), {"final": figures})


def load_clip(ctx: RunContext, tok: Tokenizers) -> ClipEncoder:
    clip = build_clip(ctx.recipe, tok)
    clip.load_state_dict(ctx.sub("clip", "clip"))
    return clip.eval().requires_grad_(False)


def load_clap(ctx: RunContext) -> ClapEncoder:
    clap = build_clap(ctx.recipe)
    clap.load_state_dict(ctx.sub("clap", "clap"), strict=False)
    return clap.eval().requires_grad_(False)
