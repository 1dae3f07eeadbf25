"""The eval through the real GenerationService and CLI, on a tiny random-weight CoDi.

Random weights score about chance, so this checks the plumbing (requests built,
outputs judged, timings, JSON), not the accuracy; test_eval_model.py checks that.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codi_studio.cli import main
from codi_studio.media import Modality
from codi_studio.toyworld import evaluation as ev

# building the tiny model and sampling on CPU takes over a minute on the shared machine
pytestmark = pytest.mark.slow

T, I, A, V = Modality.TEXT, Modality.IMAGE, Modality.AUDIO, Modality.VIDEO


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from codi_studio.codi.presets import tiny_config, write_random_model

    return write_random_model(tmp_path_factory.mktemp("models") / "tiny-random", tiny_config())


def test_service_generator_runs_each_cell_through_the_service(tiny_model: Path) -> None:
    from codi_studio.service.generation import GenerationService

    service = GenerationService(device="cpu")
    service.load_model(str(tiny_model))
    generate = ev.service_generator(service, steps=2, sampler="dpmpp")
    settings = ev.EvalSettings(samples=1, input_sets=((T, A),), output_sets=((I,),), joint_modes=("cross",))
    report = ev.evaluate(generate, settings)
    cell = report.cell([T, A], [I])
    assert cell.failures == 0, cell.first_error
    assert cell.generations == 2 and cell.seconds > 0
    assert cell.accuracy["seen"].judged == 4 and cell.accuracy["held_out"].judged == 4
    (figure,) = report.backdrop_agreement
    assert figure.failures == 0, figure.first_error
    assert figure.samples == 2


def test_eval_command_prints_the_table_and_writes_json(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    argv = ["eval", "--model", str(tiny_model), "--samples", "1", "--steps", "2", "--inputs", "text",
            "--outputs", "image", "--joint-modes", "", "--json", str(out), "--device", "cpu", "--seed", "3"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "| inputs \\ outputs | image |" in captured.out
    assert "text -> image" in captured.err  # progress line per cell
    report = json.loads(out.read_text())
    assert report["generation"] == {"sampler": "ddim", "steps": 2, "guidance": 3.0}
    assert report["seed"] == 3 and report["model"]["id"] == "tiny-random"
    (cell,) = report["cells"]
    assert cell["inputs"] == ["text"] and cell["outputs"] == ["image"] and cell["failures"] == 0
