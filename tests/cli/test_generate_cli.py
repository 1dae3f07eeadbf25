"""`codi-studio generate` on a tiny random CoDi: files, manifest, batch, project, errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from codi_studio.cli import main
from codi_studio.codi.presets import tiny_config, write_random_model
from codi_studio.media import read_audio, read_png_metadata, read_text, read_video, write_png
from codi_studio.media.values import Image


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(write_random_model(tmp_path_factory.mktemp("m") / "tiny", tiny_config()))


def test_generate_writes_every_output_and_a_manifest(model, tmp_path):
    out = tmp_path / "out"
    code = main(["generate", "--text", "a red circle moving left", "--weight", "2", "--out-modalities",
                 "text,image,audio,video", "--out", str(out), "--model", model, "--steps", "2", "--seed", "4",
                 "--quiet"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["audio.wav", "image.png", "manifest.json", "text.txt",
                                                     "video.mp4"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"] == [{"modality": "text", "text": "a red circle moving left", "weight": 2.0}]
    assert manifest["outputs"] == ["text", "image", "audio", "video"]
    assert manifest["seed"] == 4 and manifest["steps"] == 2 and manifest["model"]["id"] == "tiny-random"
    assert manifest["timings"]["total_s"] > 0
    assert json.loads(read_png_metadata(out / "image.png")["parameters"])["seed"] == 4
    video = read_video(out / "video.mp4")
    assert video.n_frames == 4 and video.audio is not None  # the generated sound is muxed in
    assert abs(video.audio.duration - read_audio(out / "audio.wav").duration) < 0.1
    read_text(out / "text.txt")


def test_batch_runs_every_good_job_and_reports_the_bad(model, tmp_path, capsys):
    picture = tmp_path / "in.png"
    write_png(picture, Image(np.full((20, 20, 3), 200, np.uint8)))
    lines = [
        {"inputs": [{"modality": "text", "text": "a blue square"}], "outputs": ["image"], "seed": 1, "out": "job1"},
        {"inputs": [{"modality": "image", "path": "in.png", "weight": 0.5}, {"modality": "text", "text": "x"}],
         "outputs": ["audio"], "seed": 2, "out": "job2", "steps": 1},
        {"inputs": [{"modality": "image", "path": "missing.png"}], "outputs": ["image"], "out": "job3"},
        {"inputs": [], "outputs": ["smell"]},
    ]
    batch = tmp_path / "jobs.jsonl"
    batch.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    code = main(["generate", "--batch", str(batch), "--model", model, "--steps", "2", "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "job 3/4 failed" in err and "missing.png" in err and "job 4/4 failed" in err
    assert (tmp_path / "job1" / "image.png").is_file()
    assert json.loads((tmp_path / "job2" / "manifest.json").read_text())["steps"] == 1
    assert not (tmp_path / "job3").exists()


def test_generate_records_lineage_in_a_project(model, tmp_path):
    from codi_studio.store import Project

    project = tmp_path / "p.codi"
    for seed in (1, 2):
        assert main(["generate", "--text", "a green triangle", "--out-modalities", "image,audio", "--out",
                     str(tmp_path / f"o{seed}"), "--model", model, "--steps", "1", "--seed", str(seed),
                     "--project", str(project), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "o2" / "manifest.json").read_text())
    assert len(manifest["project_versions"]) == 2
    with Project.open(project, read_only=True) as p:
        versions = p.search_versions(prompt="green")
        assert {v.modality for v in versions} >= {"image", "audio"}


@pytest.mark.parametrize("argv,needle", [
    (["generate", "--out-modalities", "image", "--out", "x"], "at least one input"),
    (["generate", "--text", "hi", "--out-modalities", "image,smell", "--out", "x"], "unknown modality"),
    (["generate", "--text", "hi", "--out", "x"], "--out-modalities is required"),
    (["generate", "--weight", "2", "--text", "hi"], "--weight must follow an input"),
    (["generate", "--image", "/nonexistent.png", "--out-modalities", "image", "--out", "x"], "no such file"),
    (["generate", "--text", "hi", "--out-modalities", "image", "--out", "x", "--sampler", "euler"], "invalid choice"),
])
def test_bad_arguments_get_one_line_and_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) if "--weight" in argv[1] or "euler" in argv else _no_raise():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_cli_help_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "codi_studio", "generate", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--out-modalities" in out.stdout
