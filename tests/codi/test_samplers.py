"""The samplers, on a problem whose answer is known: data that is one point."""

import pytest
import torch

from codi_studio.codi.samplers import make_scheduler, sample
from codi_studio.service.requests import CancelToken, GenerationCancelled

SCHEDULE = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)


def test_ddim_timesteps_are_codis():
    # CoDi's DDIM (ddim_vd.py, make_ddim_timesteps 'uniform'): range(0, 1000, 20) + 1
    s = make_scheduler("ddim", **SCHEDULE)
    s.set_timesteps(50)
    assert s.timesteps.tolist() == list(range(981, 0, -20))
    # first previous alpha is alphas_cumprod[0], not 1
    assert float(s.final_alpha_cumprod) == pytest.approx(float(s.alphas_cumprod[0]))


def _point_denoiser(target: dict[str, torch.Tensor], prediction_type: str):
    """The exact model for data concentrated on `target`."""
    alphas = make_scheduler("ddim", **SCHEDULE).alphas_cumprod

    def denoise(latents, t):
        a = alphas[int(t)]
        out = {}
        for m, x in latents.items():
            eps = (x - a.sqrt() * target[m]) / (1 - a).sqrt()
            if prediction_type == "epsilon":
                out[m] = eps
            elif prediction_type == "v_prediction":
                out[m] = a.sqrt() * eps - (1 - a).sqrt() * target[m]
            else:
                out[m] = target[m].expand_as(x)
        return out

    return denoise


def make_timesteps(sampler, steps):
    s = make_scheduler(sampler, **SCHEDULE)
    s.set_timesteps(steps)
    return s.timesteps


@pytest.mark.parametrize("sampler,steps", [("ddim", 50), ("ddim", 10), ("dpmpp", 20)])
@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_joint_sampling_reaches_the_data(sampler, steps, prediction_type):
    g = torch.Generator().manual_seed(0)
    target = {"image": torch.randn(1, 4, 8, 8, generator=g).clamp(-1, 1), "text": torch.rand(1, 16, generator=g)}
    noise = {m: torch.randn(x.shape, generator=g) for m, x in target.items()}
    seen = []
    out = sample(_point_denoiser(target, prediction_type), noise, sampler=sampler, steps=steps,
                 schedule={**SCHEDULE, "prediction_type": prediction_type},
                 on_step=lambda i, n, pred: seen.append((i, n, sorted(pred))))
    # With the exact denoiser the implied noise never changes, so deterministic DDIM lands on
    # sqrt(a_0) x0 + sqrt(1 - a_0) eps (CoDi's last step stops at alphas_cumprod[0], not 1);
    # DPM-Solver++ ends at sigma 0, on the data itself.
    alphas = make_scheduler("ddim", **SCHEDULE).alphas_cumprod
    t_first = int(make_timesteps(sampler, steps)[0])
    for m in target:
        a_t = alphas[t_first]
        eps = (noise[m] - a_t.sqrt() * target[m]) / (1 - a_t).sqrt()
        expected = target[m] if sampler == "dpmpp" else alphas[0].sqrt() * target[m] + (1 - alphas[0]).sqrt() * eps
        assert torch.allclose(out[m], expected, atol=2e-3), (m, (out[m] - expected).abs().max())
    assert [s[0] for s in seen] == list(range(1, steps + 1))
    assert seen[-1][2] == ["image", "text"]


def test_cancel_stops_within_one_step():
    token = CancelToken()
    target = {"audio": torch.zeros(1, 8, 4, 4)}
    calls = []

    def denoise(latents, t):
        calls.append(int(t))
        if len(calls) == 3:
            token.cancel()
        return {m: torch.zeros_like(x) for m, x in latents.items()}

    with pytest.raises(GenerationCancelled):
        sample(denoise, {"audio": torch.randn(1, 8, 4, 4)}, sampler="ddim", steps=50, schedule=SCHEDULE, cancel=token)
    assert len(calls) == 3


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="unknown sampler"):
        make_scheduler("euler", **SCHEDULE)
