"""Stage 1b: the audio mel VAE (log-mel 1 x 104 x 64 -> 8 x 26 x 16, f4).

The mel front-end is the model's own (AudioVAE.wave_to_mel, AudioLDM's
settings); the vocoder is parameter-free Griffin-Lim, so only the VAE learns.
"""

from __future__ import annotations

import torch

from codi_studio.toyworld.training import data
from codi_studio.toyworld.training.components import AUDIO_SECONDS, build_audio_vae
from codi_studio.toyworld.training.loop import optimise
from codi_studio.toyworld.training.runner import RunContext, StageResult, state_with_prefix

KL_WEIGHT = 1e-6


def run(ctx: RunContext) -> StageResult:
    r = ctx.recipe
    vae = build_audio_vae(r)
    vae.train()

    def mels(n: int) -> torch.Tensor:
        drawn = data.draw(ctx.rng, n, ("audio",))
        with torch.no_grad():
            return vae.wave_to_mel(data.audio_to_tensor(drawn["audio"]), AUDIO_SECONDS)  # type: ignore[arg-type]

    def step(i: int) -> tuple[torch.Tensor, dict[str, float]]:
        x = mels(r.audio_vae_batch)
        posterior = vae.posterior(x)
        z = posterior.sample(generator=ctx.generator)
        y = vae.decoder(vae.post_quant_conv(z))[..., : x.shape[-2], :]
        mse = torch.mean((y - x) ** 2)
        l1 = torch.mean((y - x).abs())
        kl = posterior.kl().mean()
        return mse + l1 + KL_WEIGHT * kl, {"mse": float(mse.detach())}

    figures, _ = optimise(ctx, vae.parameters(), r.audio_vae_steps, r.audio_vae_lr, step, log_every=50)
    vae.eval()
    with torch.no_grad():
        z = vae.posterior(mels(64)).mean
        scale = float(1.0 / z.std())
    state = {k: v for k, v in vae.state_dict().items() if not k.startswith("mel.")}
    return StageResult(state_with_prefix("audio_vae", state), {"final": figures, "scale_factor": scale})
