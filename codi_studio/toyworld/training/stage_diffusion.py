"""Stages 3 and 4: the per-modality diffusers, then the joint-generation connectors.

3: each sub-UNet learns to denoise its modality's latents given ONE context
vector built as CoDi composes conditions at inference: a weighted mean of 1-3
condition embeddings (random types, random weights) from the same sample, and
with probability `condition_dropout` the same mix of the unconditional
embeddings (for classifier-free guidance). unet_image learns images and videos
together (the same weights, temporal layers only run for video).
4: everything frozen except the environment encoders and connector attention;
pairs of outputs of one sample are denoised jointly in `cross` mode.
Prediction target: v (recorded as the model's prediction_type), min-SNR weights, EMA.
"""

from __future__ import annotations

import torch

from codi_studio.codi.unet import CodiUNet
from codi_studio.toyworld.training.components import build_unet
from codi_studio.toyworld.training.diffusion import NoiseSchedule
from codi_studio.toyworld.training.loop import optimise
from codi_studio.toyworld.training.runner import RunContext, StageResult, state_with_prefix

CONDITION_TYPES = ("text", "image", "video", "audio")
# conditions that would just copy the output are left out (the eval skips them too)
EXCLUDED = {"image": {"image"}, "video": {"video"}, "audio": {"audio"}, "text": {"text"}}
SUBNET = {"image": "unet_image", "video": "unet_image", "audio": "unet_audio", "text": "unet_text"}


def schedule_for(ctx: RunContext, min_snr_gamma: float | None = None) -> NoiseSchedule:
    r = ctx.recipe
    gamma = r.min_snr_gamma if min_snr_gamma is None else min_snr_gamma
    return NoiseSchedule("scaled_linear", 0.00085, 0.012, 1000, r.prediction_type, gamma)


class ConditionSampler:
    """Random composable contexts from the cached embeddings, CoDi-style."""

    def __init__(self, cache: dict[str, torch.Tensor], dropout: float, generator: torch.Generator) -> None:
        self.embeddings = torch.stack([cache[f"emb_{t}"] for t in CONDITION_TYPES], dim=1)  # (N,4,D)
        self.uncond = torch.stack([cache[f"uncond_{t}"][0] for t in CONDITION_TYPES])  # (4,D)
        self.dropout = dropout
        self.generator = generator

    def __call__(self, rows: torch.Tensor, outputs: tuple[str, ...],
                 allowed: tuple[str, ...] | None = None) -> torch.Tensor:
        """(B,1,D) contexts for cache rows; condition types drawn from `allowed` minus the outputs."""
        g = self.generator
        b = rows.shape[0]
        pool = [i for i, t in enumerate(CONDITION_TYPES)
                if (allowed is None or t in allowed) and not any(t in EXCLUDED[o] for o in outputs)]
        # how many conditions: 1 (60 %), 2 (30 %), 3 (10 %), never more than the pool has
        u = torch.rand(b, generator=g)
        count = torch.where(u < 0.6, 1, torch.where(u < 0.9, 2, 3)).clamp(max=len(pool))
        rank = torch.rand(b, len(pool), generator=g).argsort(dim=1).argsort(dim=1)
        chosen = rank < count[:, None]
        weights = torch.zeros(b, len(CONDITION_TYPES))
        weights[:, pool] = chosen.float() * (0.3 + 0.7 * torch.rand(b, len(pool), generator=g))
        emb = self.embeddings[rows]
        drop = torch.rand(b, generator=g) < self.dropout
        emb = torch.where(drop[:, None, None], self.uncond[None].expand_as(emb), emb)
        context = (weights[:, :, None] * emb).sum(dim=1) / weights.sum(dim=1, keepdim=True)
        return context[:, None, :]


def diffusion_loss(unet: CodiUNet, schedule: NoiseSchedule, cache: dict[str, torch.Tensor],
                   rows: torch.Tensor, outputs: tuple[str, ...], context: torch.Tensor,
                   generator: torch.Generator, align: tuple[float, float] | None = None,
                   min_timestep: int = 0, shared_timestep: bool = False) -> torch.Tensor:
    """One (joint when several outputs) denoising loss on cache rows, averaged over the outputs.

    `align` = (weight, temperature) adds `environment_alignment_loss` on the same noisy latents.
    `shared_timestep` draws one timestep for the whole batch instead of one per row.
    """
    n = rows.shape[0]
    t = schedule.sample_timesteps(1 if shared_timestep else n, generator, low=min_timestep).expand(n)
    clean = {m: cache[m][rows] for m in outputs}
    noise = {m: torch.randn(x.shape, generator=generator) for m, x in clean.items()}
    noisy = {m: schedule.add_noise(clean[m], noise[m], t) for m in outputs}
    predicted, envs = unet.forward_with_environments(noisy, t, context)
    loss = sum(schedule.loss(predicted[m], clean[m], noise[m], t) for m in outputs) / len(outputs)
    if align is not None and len(outputs) > 1:
        weight, temperature = align
        loss = loss + weight * environment_alignment_loss(envs, cache["labels"][rows], temperature)
    return loss


def environment_alignment_loss(envs: dict[str, torch.Tensor], labels: torch.Tensor,
                               temperature: float) -> torch.Tensor:
    """Contrastive alignment of the environment vectors (B, D) of one sample's outputs (CoDi's latent
    alignment): each output's vector must pick out the vectors of the same scene among the batch.

    Why: trained on the diffusion loss alone, the pooled, L2-normalised environment vectors
    stayed almost the same for every input (cosine 0.9999 between any two), so the connectors
    could only add a constant and joint outputs chose what no input fixes (the backdrop when
    audio is the input) independently: 0.56 agreement, chance 0.5.
    """
    same_scene = (labels[:, None, :] == labels[None, :, :]).all(dim=-1).float()
    targets = same_scene / same_scene.sum(dim=1, keepdim=True)
    names = list(envs)
    total, pairs = torch.zeros(()), 0
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            logits = envs[a] @ envs[b].T / temperature
            # symmetric InfoNCE, every row of the same scene a positive
            total = total - (targets * logits.log_softmax(dim=1)).sum(dim=1).mean()
            total = total - (targets * logits.log_softmax(dim=0).T).sum(dim=1).mean()
            pairs += 2
    return total / pairs


def run_unet(ctx: RunContext, subnet: str) -> StageResult:
    """Train one sub-UNet ('unet_image' on image+video, 'unet_audio', 'unet_text')."""
    r = ctx.recipe
    cache = ctx.tensors("cache")
    unet = build_unet(r)
    start = ctx.initial(subnet, f"unet.{subnet}")
    if start is not None:
        getattr(unet, subnet).load_state_dict(start)
        ctx.say(f"continuing from {ctx.init_from}")
    unet.train()
    net = getattr(unet, subnet)
    schedule = schedule_for(ctx)
    conditions = ConditionSampler(cache, r.condition_dropout, ctx.generator)
    n = cache["labels"].shape[0]
    steps = {"unet_image": r.image_unet_steps, "unet_audio": r.audio_unet_steps, "unet_text": r.text_unet_steps}

    def rows(b: int) -> torch.Tensor:
        return torch.randint(0, n, (b,), generator=ctx.generator)

    def step(i: int) -> tuple[torch.Tensor, dict[str, float]]:
        if subnet == "unet_image":
            b_img, b_vid = r.unet_batch, r.unet_video_batch
            ri, rv = rows(b_img), rows(b_vid)
            l_img = diffusion_loss(unet, schedule, cache, ri, ("image",), conditions(ri, ("image",)), ctx.generator)
            l_vid = diffusion_loss(unet, schedule, cache, rv, ("video",), conditions(rv, ("video",)), ctx.generator)
            return l_img + l_vid, {"image": float(l_img.detach()), "video": float(l_vid.detach())}
        modality = "audio" if subnet == "unet_audio" else "text"
        b = r.unet_batch * 2 if modality == "text" else max(1, r.unet_batch // 2)
        rr = rows(b)
        return diffusion_loss(unet, schedule, cache, rr, (modality,), conditions(rr, (modality,)), ctx.generator), {}

    figures, ema = optimise(ctx, net.parameters(), steps[subnet], r.unet_lr, step, ema_of=net,
                            ema_decay=r.ema_decay, log_every=25)
    assert ema is not None
    return StageResult(state_with_prefix(f"unet.{subnet}", ema.shadow.state_dict()), {"final": figures})


JOINT_PAIRS: tuple[tuple[tuple[str, str], float, tuple[str, ...] | None], ...] = (
    # (outputs, probability, allowed condition types or None for any)
    (("image", "video"), 0.45, ("audio",)),  # audio does not carry the backdrop: the pair must agree
    (("image", "video"), 0.10, None),
    (("video", "audio"), 0.20, None),
    (("image", "audio"), 0.10, None),
    (("text", "image"), 0.05, None),
    (("text", "audio"), 0.05, None),
    (("text", "video"), 0.05, None),
)


def is_connector(name: str) -> bool:
    return "connecters_out" in name or "connecters_in" in name


def load_trained_unet(ctx: RunContext) -> CodiUNet:
    unet = build_unet(ctx.recipe)
    state = {}
    for stage in ("unet_image", "unet_audio", "unet_text"):
        state.update(ctx.sub(stage, "unet"))
    missing, unexpected = unet.load_state_dict(state, strict=False)
    if unexpected:
        raise RuntimeError(f"unexpected UNet weights {unexpected[:3]}")
    return unet


def run_joint(ctx: RunContext) -> StageResult:
    r = ctx.recipe
    cache = ctx.tensors("cache")
    unet = load_trained_unet(ctx)
    start = ctx.initial("joint", "unet")
    if start is not None:  # only the connectors come from the earlier run; the sub-UNets are this run's
        unet.load_state_dict({k: v for k, v in start.items() if is_connector(k)}, strict=False)
        ctx.say(f"connectors continuing from {ctx.init_from}")
    unet.train()
    for name, p in unet.named_parameters():
        p.requires_grad_(is_connector(name))
    schedule = schedule_for(ctx, r.joint_min_snr_gamma)
    conditions = ConditionSampler(cache, r.condition_dropout, ctx.generator)
    n = cache["labels"].shape[0]
    probs = torch.tensor([p for _, p, _ in JOINT_PAIRS])
    align = (r.joint_align_weight, r.joint_align_temperature) if r.joint_align_weight > 0 else None

    def step(i: int) -> tuple[torch.Tensor, dict[str, float]]:
        k = int(torch.multinomial(probs, 1, generator=ctx.generator))
        outputs, _, allowed = JOINT_PAIRS[k]
        b = r.joint_batch // (4 if "video" in outputs else 1)
        rr = torch.randint(0, n, (max(1, b),), generator=ctx.generator)
        context = conditions(rr, outputs, allowed)
        # aligned pairs share one timestep: with a timestep per row, the environment vectors of a
        # pair could match on the timestep they share instead of on their content
        return diffusion_loss(unet, schedule, cache, rr, outputs, context, ctx.generator, align,
                              r.joint_min_timestep, shared_timestep=align is not None), {}

    params = [p for name, p in unet.named_parameters() if is_connector(name)]
    figures, ema = optimise(ctx, params, r.joint_steps, r.joint_lr, step, ema_of=unet, ema_decay=r.ema_decay,
                            log_every=25)
    assert ema is not None
    return StageResult(state_with_prefix("unet", ema.shadow.state_dict()), {"final": figures})
