"""The toy training recipe at a micro size: every stage runs, checkpoints, resumes, repeats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from codi_studio.cli import main as cli_main
from codi_studio.toyworld import world
from codi_studio.toyworld.training import STAGE_NAMES, ToyRecipe, TrainingError, build_stages, train
from codi_studio.toyworld.training import data
from codi_studio.toyworld.training.parallel import bottlenecks, ready_stages, stage_threads
from codi_studio.toyworld.training.runner import RunContext, run_stages
from codi_studio.toyworld.training.tokenizer import write_tokenizers


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("micro")
    messages: list[str] = []
    train(out, preset="micro", seed=3, progress=messages.append)
    return out, messages


def test_every_stage_finishes_with_a_checkpoint_and_finite_losses(micro_run: tuple[Path, list[str]]) -> None:
    out, messages = micro_run
    for name in STAGE_NAMES:
        info = json.loads((out / "stages" / f"{name}.json").read_text())
        assert info["done"] is True, name
        assert (out / "stages" / f"{name}.safetensors").is_file(), name
        if "final" in info:
            assert np.isfinite(info["final"]["loss"]), (name, info["final"])
    assert any("step 2/2" in m for m in messages)
    assert (out / "train.log").read_text().count("done in") == len(STAGE_NAMES)


def test_rerun_skips_finished_stages(micro_run: tuple[Path, list[str]]) -> None:
    out, _ = micro_run
    before = {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.safetensors")}
    messages: list[str] = []
    train(out, preset="micro", seed=3, progress=messages.append)
    skipped = [m for m in messages if "already finished, skipped" in m]
    assert len(skipped) == len(STAGE_NAMES)
    assert before == {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.safetensors")}


def test_a_half_finished_stage_runs_again(micro_run: tuple[Path, list[str]], tmp_path: Path) -> None:
    src, _ = micro_run
    out = tmp_path / "resume"
    (out / "stages").mkdir(parents=True)
    for name in STAGE_NAMES[:-1]:
        for suffix in (".json", ".safetensors"):
            (out / "stages" / f"{name}{suffix}").write_bytes((src / "stages" / f"{name}{suffix}").read_bytes())
    (out / "stages" / "joint.json").write_text(json.dumps({"done": False}))  # killed mid-stage
    messages: list[str] = []
    train(out, preset="micro", seed=3, progress=messages.append)
    ran = [m for m in messages if ": starting" in m]
    assert [m.split()[2].rstrip(":") for m in ran] == ["joint", "export"]
    assert (out / "model" / "config.json").is_file()


def test_init_from_continues_an_earlier_runs_diffuser(micro_run: tuple[Path, list[str]], tmp_path: Path) -> None:
    src, _ = micro_run
    out = tmp_path / "continued"
    (out / "stages").mkdir(parents=True)
    for name in STAGE_NAMES[:6]:  # autoencoders, encoders and cache carried over; diffusers retrained
        for suffix in (".json", ".safetensors"):
            (out / "stages" / f"{name}{suffix}").write_bytes((src / "stages" / f"{name}{suffix}").read_bytes())
    messages: list[str] = []
    train(out, preset="micro", seed=3, progress=messages.append, init_from=src)
    assert any("[unet_text] continuing from" in m for m in messages)
    assert any("[joint] connectors continuing from" in m for m in messages)
    before = load_file(str(src / "stages" / "unet_text.safetensors"))
    after = load_file(str(out / "stages" / "unet_text.safetensors"))
    assert before.keys() == after.keys()


def _copy_stages(src: Path, out: Path, names: tuple[str, ...]) -> None:
    (out / "stages").mkdir(parents=True, exist_ok=True)
    for name in names:
        for suffix in (".json", ".safetensors"):
            (out / "stages" / f"{name}{suffix}").write_bytes((src / "stages" / f"{name}{suffix}").read_bytes())


def test_parallel_stages_give_the_sequential_weights(tmp_path: Path) -> None:
    out = tmp_path / "parallel"
    messages: list[str] = []
    train(out, preset="micro", seed=3, progress=messages.append, jobs=2)
    # the sequential reference, with the thread count the parallel run gave each stage
    src = tmp_path / "sequential"
    stages = build_stages(write_tokenizers(src / "tokenizers"))
    threads = stage_threads({s.name: s.needs for s in stages}, jobs=2)
    before = torch.get_num_threads()
    try:
        run_stages(stages, RunContext(ToyRecipe.micro(), src, 3, messages.append),
                   threads=threads)
    finally:
        torch.set_num_threads(before)
    assert [n for n in STAGE_NAMES if threads(n) == 2] == ["cache", "joint", "export"]
    for name in STAGE_NAMES:
        assert json.loads((out / "stages" / f"{name}.json").read_text())["threads"] == threads(name), name
        a = load_file(str(src / "stages" / f"{name}.safetensors"))
        b = load_file(str(out / "stages" / f"{name}.safetensors"))
        assert a.keys() == b.keys(), name
        assert all(torch.equal(a[k], b[k]) for k in a), name
    # every stage's own progress came back to the parent's log
    assert (out / "train.log").read_text().count("done in") == len(STAGE_NAMES)
    assert (out / "model" / "config.json").is_file()


def test_a_failing_parallel_stage_stops_the_run_and_names_itself(micro_run: tuple[Path, list[str]],
                                                                 tmp_path: Path) -> None:
    src, _ = micro_run
    out = tmp_path / "broken"
    _copy_stages(src, out, STAGE_NAMES[:6])
    (out / "stages" / "cache.safetensors").write_bytes(b"not a checkpoint")  # damaged after it finished
    messages: list[str] = []
    with pytest.raises(TrainingError, match=r"stage unet_\w+ failed"):
        train(out, preset="micro", seed=3, progress=messages.append, jobs=2)
    assert any("damaged checkpoint" in m for m in messages)
    assert not (out / "stages" / "joint.json").exists()


def test_ready_stages_wait_for_their_prerequisites_and_bottlenecks_run_alone(tmp_path: Path) -> None:
    needs = {s.name: s.needs for s in build_stages(write_tokenizers(tmp_path / "tok"))}
    pending = list(STAGE_NAMES)
    assert ready_stages(pending, needs, set()) == ["image_vae", "audio_vae", "text_vae", "clip"]
    done = {"image_vae", "audio_vae", "text_vae", "clip", "clap", "cache"}
    assert ready_stages([n for n in pending if n not in done], needs, done) == [
        "unet_image", "unet_audio", "unet_text"]
    # clap is not one: the autoencoders may still run beside it
    assert bottlenecks(needs) == {"cache", "joint", "export"}
    assert bottlenecks({"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}) == {"a", "d"}


def _run_first_stages(out: Path, seed: int) -> dict[str, torch.Tensor]:
    stages = [s for s in build_stages(write_tokenizers(out / "tokenizers")) if s.name in ("image_vae", "text_vae")]
    ctx = RunContext(ToyRecipe.micro(), out, seed, lambda m: None)
    run_stages(stages, ctx)
    return {**load_file(str(out / "stages" / "image_vae.safetensors")),
            **load_file(str(out / "stages" / "text_vae.safetensors"))}


def test_same_seed_gives_the_same_weights(tmp_path: Path) -> None:
    a = _run_first_stages(tmp_path / "a", seed=5)
    b = _run_first_stages(tmp_path / "b", seed=5)
    c = _run_first_stages(tmp_path / "c", seed=6)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_the_micro_model_loads_and_generates_every_modality(micro_run: tuple[Path, list[str]]) -> None:
    from codi_studio.codi.model import CodiModel
    from codi_studio.codi.pipeline import CodiPipeline
    from codi_studio.media.values import Audio, Image, Modality, Text, Video

    out, _ = micro_run
    model = CodiModel.open(out / "model", device="cpu")
    assert model.config.prediction_type == "v_prediction"
    assert model.config.joint_mode == "cross"
    pipe = CodiPipeline(model)
    result = pipe.generate([(Text("a red circle moving up at night"), 1.0)],
                           [Modality.IMAGE, Modality.AUDIO], steps=2, guidance=2.0)
    sample = result.samples[0]
    assert isinstance(sample[Modality.IMAGE], Image) and sample[Modality.IMAGE].width == world.IMAGE_SIZE
    assert isinstance(sample[Modality.AUDIO], Audio) and sample[Modality.AUDIO].duration >= 1.0
    scene = world.sample(world.Scene("square", "blue", "left", "day"), np.random.default_rng(0))
    result = pipe.generate([(scene.audio, 1.0), (scene.image, 0.5)], [Modality.VIDEO, Modality.TEXT], steps=2)
    video, text = result.samples[0][Modality.VIDEO], result.samples[0][Modality.TEXT]
    assert isinstance(video, Video) and video.n_frames == world.VIDEO_FRAMES
    assert isinstance(text, Text)


def test_training_draws_never_contain_held_out_scenes() -> None:
    rng = np.random.default_rng(0)
    labels = np.concatenate([data.draw(rng, 500, ("text",))["labels"] for _ in range(4)])  # type: ignore[misc]
    held = {tuple(world.scene_labels([s])[0]) for s in world.HELD_OUT}
    assert not held & {tuple(row) for row in labels}
    with pytest.raises(ValueError, match="held-out"):
        data.training_scenes(world.SCENES)


def test_minutes_scale_multiplies_step_counts() -> None:
    toy = ToyRecipe.toy()
    half = toy.scaled(0.5)
    assert half.unet_batch == toy.unet_batch
    assert half.image_unet_steps == round(toy.image_unet_steps * 0.5)
    with pytest.raises(ValueError):
        toy.scaled(0)


@pytest.mark.parametrize("argv, message", [
    (["train", "--preset", "huge", "--out", "x"], "unknown preset"),
    (["train", "--out", "x", "--minutes-scale", "0"], "must be positive"),
    (["train", "--out", "x", "--init-from", "/nonexistent/run"], "not a training run folder"),
    (["train", "--out", "x", "--jobs", "0"], "--jobs must be at least 1"),
    (["train", "--out", "x", "--jobs", "2", "--threads", "2"], "--threads applies to --jobs 1 only"),
])
def test_cli_rejects_bad_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_refuses_a_file_as_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("not a folder")
    assert cli_main(["train", "--preset", "micro", "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


SHIPPED = Path(__file__).resolve().parents[2] / "models" / "toy-v1"


@pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="models/toy-v1 has not been trained yet")
def test_the_shipped_model_loads_and_generates_every_modality() -> None:
    from codi_studio.codi.model import CodiModel
    from codi_studio.codi.model_store import weight_files
    from codi_studio.codi.pipeline import CodiPipeline
    from codi_studio.media.values import Audio, Image, Modality, Text, Video

    assert sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file()) < 50 * 2**20
    assert (SHIPPED / "MODEL_CARD.md").is_file() and weight_files(SHIPPED)
    model = CodiModel.open(SHIPPED, device="cpu")
    assert model.id == "toy-v1" and model.config.joint_mode == "cross"
    pipe = CodiPipeline(model)
    scene = world.sample(world.Scene("circle", "green", "up", "night"), np.random.default_rng(1))
    expected = {Modality.TEXT: Text, Modality.IMAGE: Image, Modality.AUDIO: Audio, Modality.VIDEO: Video}
    for condition, output in ((scene.text, Modality.IMAGE), (scene.image, Modality.AUDIO),
                              (scene.audio, Modality.TEXT), (scene.video, Modality.TEXT),
                              (scene.text, Modality.VIDEO)):
        result = pipe.generate([(condition, 1.0)], [output], steps=2, guidance=3.0)
        assert isinstance(result.samples[0][output], expected[output])
