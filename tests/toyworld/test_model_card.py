"""The model card of a trained toy model, rendered from the shipped model's recorded figures."""

from __future__ import annotations

from pathlib import Path

from codi_studio.codi.config import ModelConfig
from codi_studio.toyworld.training import model_card

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "toy-v1"


def test_card_names_every_stage_with_its_figures_and_no_raw_dicts() -> None:
    config = ModelConfig.load(SHIPPED)
    card = model_card.render(config, "| the eval table |", "How the eval was run.", "Extra notes.")
    stages = config.extras["training"]["stages"]
    for name, info in stages.items():
        row = next(line for line in card.splitlines() if line.startswith(f"| {name} |"))
        assert str(info["seconds"]) in row
    assert "{'" not in card  # figures are written out, not printed as Python dicts
    assert "| the eval table |" in card and "How the eval was run." in card and "Extra notes." in card
    recipe = config.extras["training"]["recipe"]
    assert f"timesteps {recipe['joint_min_timestep']}-999" in card


def test_figure_texts() -> None:
    assert model_card.retrieval_text({"image_seen": 0.977, "image_held_out": 1.0}) == \
        "image 0.98 / 1.00 (seen / held-out scenes)"
    assert model_card.attributes_text({"shape": 1.0, "color": 0.875}) == "shape 1.00, color 0.88"
    assert model_card.threads_text({"clip": {"threads": 1}, "joint": {"threads": 2}}).endswith(
        "2 threads for joint, which nothing runs beside")
    assert model_card.threads_text({"cache": {"threads": 4}, "joint": {"threads": 4}}).endswith(
        "4 threads for cache, joint, which nothing runs beside")
    assert model_card.threads_text({"clip": {}}) == "one process and one CPU thread each"
    assert model_card.schedule_text({"clip": {"threads": 1}, "joint": {"threads": 3}}).startswith(
        "independent stages 3 at a time (one process and one CPU thread each, 3 threads for joint")
    assert model_card.schedule_text({"clip": {"threads": 4}, "joint": {"threads": 4}}) == \
        "one stage at a time on 4 CPU threads"
    assert model_card.attributes_text(None) == "n/a"
