"""Stage 1a: the image/video-frame KL-VAE (64x64 RGB -> 8x8x8, f8).

Stills and single video frames are the same kind of picture (video frames fold
into the batch at encode time), so one VAE learns both from a mix of the two.
Loss: pixel L1 + MSE and a small KL term, enough for flat toy pictures (no
perceptual or adversarial loss: those need pretrained nets or far more steps).
"""

from __future__ import annotations

import torch

from codi_studio.codi.modality_io import to_uint8
from codi_studio.toyworld.training import checks, data
from codi_studio.toyworld.training.components import build_image_vae
from codi_studio.toyworld.training.loop import optimise
from codi_studio.toyworld.training.runner import RunContext, StageResult, state_with_prefix

KL_WEIGHT = 1e-6
FOREGROUND_WEIGHT = 9.0  # the object covers ~10 % of a picture; weigh its pixels like the backdrop's


def foreground_weights(x: torch.Tensor) -> torch.Tensor:
    """1 on the backdrop, 1 + FOREGROUND_WEIGHT where a pixel differs from the picture's corner colour.

    Toy pictures are a flat backdrop with one object; plain MSE spends nearly all its
    effort on the backdrop and lets the object's colour and outline wash out.
    """
    corner = x[:, :, :2, :2].mean(dim=(2, 3), keepdim=True)
    differs = ((x - corner).abs().amax(dim=1, keepdim=True) > 0.1).float()
    return 1.0 + FOREGROUND_WEIGHT * differs


def run(ctx: RunContext) -> StageResult:
    r = ctx.recipe
    vae = build_image_vae(r)
    vae.train()

    def step(i: int) -> tuple[torch.Tensor, dict[str, float]]:
        drawn = data.draw(ctx.rng, r.image_vae_batch, ("image", "video"))
        stills = data.images_to_tensor(drawn["image"])  # type: ignore[arg-type]
        frames = data.video_frames(data.videos_to_tensor(drawn["video"]))  # type: ignore[arg-type]
        # half stills, half random video frames
        pick = torch.randint(0, frames.shape[0], (stills.shape[0] // 2,), generator=ctx.generator)
        x = torch.cat([stills[: stills.shape[0] - pick.shape[0]], frames[pick]])
        posterior = vae.posterior(x)
        z = posterior.sample(generator=ctx.generator)
        y = vae.decoder(vae.post_quant_conv(z))
        w = foreground_weights(x)
        mse = torch.mean((y - x) ** 2)
        weighted = torch.mean(w * ((y - x) ** 2 + (y - x).abs())) / w.mean()
        kl = posterior.kl().mean()
        return weighted + KL_WEIGHT * kl, {"mse": float(mse.detach()), "kl": float(kl.detach())}

    figures, _ = optimise(ctx, vae.parameters(), r.image_vae_steps, r.image_vae_lr, step, log_every=50)
    vae.eval()
    # latent scale: 1/std of the latent means, so the diffuser sees unit-variance latents (as SD's 0.18215)
    with torch.no_grad():
        drawn = data.draw(ctx.rng, 64, ("image",))
        z = vae.posterior(data.images_to_tensor(drawn["image"])).mean  # type: ignore[arg-type]
        scale = float(1.0 / z.std())
        decoded = vae.decoder(vae.post_quant_conv(z))
        judged = checks.image_reconstructions(to_uint8(decoded), drawn["labels"])  # type: ignore[arg-type]
    ctx.say(f"reconstructions judged {judged}")
    return StageResult(state_with_prefix("image_vae", vae.state_dict()),
                       {"final": figures, "scale_factor": scale, "reconstruction_judged": judged})
