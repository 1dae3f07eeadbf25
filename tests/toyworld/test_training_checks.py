"""The judged-reconstruction checks and the partial-caption loss of the alignment stage."""

from __future__ import annotations

import numpy as np
import torch

from codi_studio.codi.modality_io import to_uint8
from codi_studio.toyworld import world
from codi_studio.toyworld.training import checks, data
from codi_studio.toyworld.training.stage_align import PARTIAL_CAPTIONS, partial_caption_loss


def test_true_pictures_and_captions_judge_perfectly_and_noise_does_not() -> None:
    drawn = data.draw(np.random.default_rng(0), 12, ("image", "text"))
    labels = drawn["labels"]
    assert checks.image_reconstructions(drawn["image"], labels) == {a: 1.0 for a in world.ATTRIBUTES}
    assert checks.text_reconstructions(drawn["text"], labels) == {a: 1.0 for a in world.ATTRIBUTES}
    noise = np.random.default_rng(1).integers(0, 256, drawn["image"].shape, dtype=np.uint8)
    assert checks.image_reconstructions(noise, labels)["shape"] < 0.5
    assert checks.text_reconstructions(["a"] * 12, labels) == {a: 0.0 for a in world.ATTRIBUTES}


def test_to_uint8_maps_the_model_range_to_bytes() -> None:
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 1, 4).expand(1, 3, 1, 4)
    assert to_uint8(x)[0, 0, :, 0].tolist() == [0, 128, 255, 255]


def test_partial_caption_loss_rewards_embeddings_that_name_every_attribute() -> None:
    # one orthogonal direction per (attribute, value): an embedding that sums its scene's directions
    # matches each right partial caption best
    offsets = dict(zip(PARTIAL_CAPTIONS, np.cumsum([0] + [len(v) for v in PARTIAL_CAPTIONS.values()])))
    basis = torch.eye(sum(len(v) for v in PARTIAL_CAPTIONS.values()))
    partial = {a: basis[offsets[a]:offsets[a] + len(v)][:, None, :] for a, v in PARTIAL_CAPTIONS.items()}
    labels = torch.from_numpy(data.draw(np.random.default_rng(2), 8, ())["labels"])
    right = torch.stack([sum(basis[offsets[a] + int(row[k])] for k, a in enumerate(world.ATTRIBUTES))
                         for row in labels])[:, None, :]
    right = right / right.norm(dim=-1, keepdim=True)
    wrong = right.roll(1, dims=-1)
    scale = torch.tensor(np.log(50.0))
    assert partial_caption_loss(right, labels, partial, scale) < 0.1
    assert partial_caption_loss(wrong, labels, partial, scale) > 1.0
    only_audible = partial_caption_loss(right, labels, partial, scale, ("shape", "color", "motion"))
    assert only_audible < 0.1
