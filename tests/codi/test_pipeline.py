"""The pipeline end to end on a tiny random-weight CoDi: every input/output pairing runs.

Random weights say nothing about quality (the toy model's eval does that); these
tests pin down shapes, types, composition, joint generation, guidance batching,
seeds, progress and cancel.
"""

import itertools

import numpy as np
import pytest
import torch

from codi_studio.codi.model import CodiModel
from codi_studio.codi.pipeline import CodiPipeline
from codi_studio.codi.presets import tiny_config, write_random_model
from codi_studio.media.values import Audio, Image, Modality, Text, Video
from codi_studio.service.requests import CancelToken, GenerationCancelled

ALL = list(Modality)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    folder = write_random_model(tmp_path_factory.mktemp("tiny") / "tiny-random", tiny_config())
    return CodiPipeline(CodiModel.open(folder, device="cpu"))


def condition(modality: Modality):
    rng = np.random.default_rng(1)
    if modality is Modality.TEXT:
        return Text("a red circle moving left at night")
    if modality is Modality.IMAGE:
        return Image(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    if modality is Modality.AUDIO:
        return Audio(rng.uniform(-0.5, 0.5, (22050, 2)).astype(np.float32), 22050)
    return Video(rng.integers(0, 255, (6, 36, 36, 3), dtype=np.uint8), 12.0)


def check_output(modality: Modality, value, geometry):
    if modality is Modality.TEXT:
        assert isinstance(value, Text)
    elif modality is Modality.IMAGE:
        assert isinstance(value, Image) and value.pixels.shape == (geometry.image_size, geometry.image_size, 3)
    elif modality is Modality.VIDEO:
        assert isinstance(value, Video) and value.n_frames == geometry.video_frames
        assert value.fps == geometry.video_fps
    else:
        assert isinstance(value, Audio) and value.sample_rate == geometry.audio_rate and value.channels == 1
        assert np.isfinite(value.samples).all() and np.abs(value.samples).max() <= 1.0


@pytest.mark.parametrize("source,target", list(itertools.product(ALL, ALL)))
def test_every_single_pair(pipeline, source, target):
    out = pipeline.generate([(condition(source), 1.0)], [target], steps=2, guidance=2.0, seed=3)
    assert len(out.samples) == 1
    check_output(target, out.samples[0][target], pipeline.model.config.geometry)


def test_two_and_three_input_compositions_and_joint_video_audio(pipeline):
    geometry = pipeline.model.config.geometry
    two = pipeline.generate([(condition(Modality.TEXT), 1.0), (condition(Modality.IMAGE), 0.5)],
                            [Modality.AUDIO], steps=2)
    check_output(Modality.AUDIO, two.samples[0][Modality.AUDIO], geometry)
    three = pipeline.generate([(condition(Modality.TEXT), 1.0), (condition(Modality.IMAGE), 1.0),
                               (condition(Modality.AUDIO), 2.0)], [Modality.IMAGE], steps=2)
    check_output(Modality.IMAGE, three.samples[0][Modality.IMAGE], geometry)
    joint = pipeline.generate([(condition(Modality.TEXT), 1.0)], [Modality.VIDEO, Modality.AUDIO], steps=2,
                              n_samples=2)
    assert len(joint.samples) == 2
    for sample in joint.samples:
        check_output(Modality.VIDEO, sample[Modality.VIDEO], geometry)
        check_output(Modality.AUDIO, sample[Modality.AUDIO], geometry)


def test_composition_is_the_weighted_mean_of_the_encodings(pipeline):
    text, image = condition(Modality.TEXT), condition(Modality.IMAGE)
    (ct, ut), (ci, ui) = pipeline.io.encode(text, 1), pipeline.io.encode(image, 1)
    mixed = pipeline.encode_conditions([(text, 3.0), (image, 1.0)], 1)
    torch.testing.assert_close(mixed[1:], (3 * ct + ci) / 4)  # conditional half
    torch.testing.assert_close(mixed[:1], (3 * ut + ui) / 4)  # unconditional half, mixed the same way
    assert not torch.allclose(ct, ci)


def test_seeds_reproduce(pipeline):
    run = lambda seed: pipeline.generate([(condition(Modality.TEXT), 1.0)], [Modality.IMAGE], steps=2,
                                         seed=seed).samples[0][Modality.IMAGE].pixels
    assert np.array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_progress_and_previews(pipeline):
    seen = []
    pipeline.generate([(condition(Modality.TEXT), 1.0)], [Modality.VIDEO, Modality.AUDIO], steps=4,
                      on_step=lambda i, n, previews: seen.append((i, n, set(previews))), preview_every=2)
    assert [s[0] for s in seen] == [1, 2, 3, 4] and all(s[1] == 4 for s in seen)
    assert seen[1][2] == {Modality.VIDEO} and seen[0][2] == set()


def test_cancel_stops_within_a_step(pipeline):
    token = CancelToken()
    steps = []

    def on_step(i, n, previews):
        steps.append(i)
        if i == 2:
            token.cancel()

    with pytest.raises(GenerationCancelled):
        pipeline.generate([(condition(Modality.TEXT), 1.0)], [Modality.IMAGE], steps=10, cancel=token,
                          on_step=on_step)
    assert steps == [1, 2]


def test_weights_must_not_all_be_zero(pipeline):
    with pytest.raises(ValueError, match="zero"):
        pipeline.generate([(condition(Modality.TEXT), 0.0)], [Modality.IMAGE], steps=1)
