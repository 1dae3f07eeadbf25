"""The training losses on their own: loss weighting and the joint stage's environment alignment."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from codi_studio.toyworld.training import ToyRecipe
from codi_studio.toyworld.training.components import build_unet
from codi_studio.toyworld.training.diffusion import NoiseSchedule
from codi_studio.toyworld.training.stage_diffusion import environment_alignment_loss


def test_min_snr_weights_vanish_at_high_noise_and_gamma_zero_turns_them_off() -> None:
    t = torch.tensor([10, 500, 999])
    weighted = NoiseSchedule("scaled_linear", 0.00085, 0.012, 1000, "v_prediction", 5.0).loss_weight(t)
    assert weighted[2] < 0.01 < weighted[1]  # where joint outputs settle what no input fixes
    plain = NoiseSchedule("scaled_linear", 0.00085, 0.012, 1000, "v_prediction", 0.0).loss_weight(t)
    assert torch.equal(plain, torch.ones(3))


def _scene_batch(scenes: int, per_scene: int, generator: torch.Generator) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Image and video latents whose only shared content is a per-scene offset (like a backdrop)."""
    labels = torch.arange(scenes).repeat_interleave(per_scene)
    offset = torch.randn(scenes, 8, generator=generator)[labels]
    image = torch.randn(len(labels), 8, 8, 8, generator=generator) * 0.5 + offset[:, :, None, None]
    video = torch.randn(len(labels), 8, 4, 8, 8, generator=generator) * 0.5 + offset[:, :, None, None, None]
    # the loss compares whole label rows: one column is enough here
    return {"image": image, "video": video}, labels[:, None]


def test_alignment_trains_environment_vectors_to_tell_scenes_apart() -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    unet = build_unet(ToyRecipe.micro())
    encoders = [p for n, p in unet.named_parameters() if "connecters_out" in n]
    optimiser = torch.optim.Adam(encoders, lr=3e-3)
    latents, labels = _scene_batch(scenes=4, per_scene=2, generator=g)
    t = torch.full((len(labels),), 100)
    context = torch.zeros(len(labels), 1, unet.unet_image.config.context_dim)

    def alignment() -> torch.Tensor:
        return environment_alignment_loss(unet.forward_with_environments(latents, t, context)[1], labels, 0.1)

    first = alignment().item()
    for _ in range(40):
        loss = alignment()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    # two rows per scene: the best a row can do is split its probability over both (log 2)
    assert first > 1.0
    assert loss.item() < math.log(2) + 0.05

    with torch.no_grad():
        envs = {m: unet.subnet(m).encode_environment(x, unet.subnet(m).embed_time(t), context)
                for m, x in latents.items()}
    similarity = F.cosine_similarity(envs["image"][:, None], envs["video"][None], dim=-1)
    same = labels == labels.T
    assert similarity[same].mean() > similarity[~same].mean() + 0.5


def test_joint_forward_returns_the_environment_vectors_it_used() -> None:
    torch.manual_seed(0)
    unet = build_unet(ToyRecipe.micro()).eval()
    latents, labels = _scene_batch(scenes=2, per_scene=2, generator=torch.Generator().manual_seed(1))
    t = torch.full((len(labels),), 500)
    context = torch.randn(len(labels), 1, unet.unet_image.config.context_dim)
    with torch.no_grad():
        outputs, envs = unet.forward_with_environments(latents, t, context)
        assert set(envs) == {"image", "video"}
        for m, x in latents.items():
            net = unet.subnet(m)
            torch.testing.assert_close(envs[m], net.encode_environment(x, net.embed_time(t), context))
            torch.testing.assert_close(outputs[m], unet(latents, t, context)[m])
        assert unet.forward_with_environments({"image": latents["image"]}, t, context)[1] == {}


def test_timesteps_can_be_drawn_from_the_noisy_end_only() -> None:
    schedule = NoiseSchedule("scaled_linear", 0.00085, 0.012, 1000)
    t = schedule.sample_timesteps(2000, torch.Generator().manual_seed(0), low=400)
    assert int(t.min()) >= 400 and int(t.max()) == 999
