"""The eval's table and score logic, driven by generators whose right answer is known.

`oracle` is a perfect model: it reads its conditions with the judges and renders
the outputs from that scene (attributes no condition carries are drawn at random,
as a model would have to guess them). `guesser` ignores its conditions. A real
generation service is exercised by test_eval_model.py.
"""

from __future__ import annotations

import json
from typing import Mapping

import numpy as np
import pytest

from codi_studio.media import MediaValue, Modality, Text
from codi_studio.toyworld import evaluation as ev
from codi_studio.toyworld import judges, world

T, I, A, V = Modality.TEXT, Modality.IMAGE, Modality.AUDIO, Modality.VIDEO


def _known_attributes(conditions: tuple[MediaValue, ...]) -> dict[str, str]:
    known: dict[str, str] = {}
    for value in conditions:
        for attribute, guess in judges.judge(value).items():
            if guess is not None:
                known.setdefault(attribute, guess)
    return known


def _scene(known: Mapping[str, str], rng: np.random.Generator) -> world.Scene:
    return world.Scene(**{a: known.get(a, world.VALUES[a][rng.integers(len(world.VALUES[a]))]) for a in world.ATTRIBUTES})


def oracle(call: ev.GenerationCall) -> dict[Modality, MediaValue]:
    """Perfect model. Joint mode "reference" guesses the unknown attributes per output (no coupling)."""
    rng = np.random.default_rng(call.seed)
    known = _known_attributes(call.conditions)
    shared = _scene(known, rng)
    out: dict[Modality, MediaValue] = {}
    for modality in call.outputs:
        scene = _scene(known, rng) if call.joint_mode == "reference" else shared
        out[modality] = getattr(world.sample(scene, rng), modality.value)
    return out


def guesser(call: ev.GenerationCall) -> dict[Modality, MediaValue]:
    """Ignores the conditions; every output an independent random scene."""
    rng = np.random.default_rng(call.seed)
    return {m: getattr(world.sample(world.SCENES[rng.integers(96)], rng), m.value) for m in call.outputs}


# ---------------------------------------------------------------- what is judged


def test_judged_attributes_follow_what_both_sides_carry() -> None:
    assert ev.judged_attributes([A], I) == ("shape", "color", "motion")  # audio has no backdrop
    assert ev.judged_attributes([I], A) == ("shape", "color", "motion")  # nor can audio show one
    assert ev.judged_attributes([T], V) == world.ATTRIBUTES
    assert ev.judged_attributes([I, A], V) == world.ATTRIBUTES
    assert ev.shared_attributes([V, A]) == ("shape", "color", "motion")
    assert ev.shared_attributes([I, V]) == world.ATTRIBUTES


def test_chance_is_the_mean_over_judged_attributes() -> None:
    report = ev.evaluate(oracle, ev.EvalSettings(samples=1, input_sets=((A,), (T,)), output_sets=((I,), (V, A)), joint_modes=()))
    assert report.cell([A], [I]).chance == pytest.approx((1 / 3 + 1 / 4 + 1 / 4) / 3)
    # text -> video (4 attributes) + audio (3 attributes)
    expected = (1 / 3 + 1 / 4 + 1 / 4 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 4) / 7
    assert report.cell([T], [V, A]).chance == pytest.approx(expected)
    assert report.cell([T], [V, A]).agreement_chance == pytest.approx((1 / 3 + 1 / 4 + 1 / 4) / 3)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="samples must be at least 1"):
        ev.EvalSettings(samples=0)
    with pytest.raises(ValueError, match="unknown joint mode 'loose'"):
        ev.EvalSettings(joint_modes=("loose",))


# ---------------------------------------------------------------- a perfect model scores 1


def test_perfect_model_scores_one_everywhere() -> None:
    report = ev.evaluate(oracle, ev.EvalSettings(samples=1, joint_modes=()))
    assert len(report.cells) == 8 * 5
    for cell in report.cells:
        for split in ev.SPLITS:
            tally = cell.accuracy[split]
            assert tally.judged == sum(len(a) for a in cell.judged.values())
            assert tally.fraction == 1.0, (cell.inputs, cell.outputs, split)
        if cell.agreement is not None:
            assert cell.agreement["seen"].fraction == 1.0 == cell.agreement["held_out"].fraction
    assert report.cell([I], [I]).same_modality and not report.cell([T], [I]).same_modality
    assert sum(not c.same_modality and len(c.inputs) == 1 and len(c.outputs) == 1 for c in report.cells) == 12


def test_backdrop_agreement_separates_coupled_from_uncoupled_joint_modes() -> None:
    report = ev.evaluate(oracle, ev.EvalSettings(samples=16, input_sets=(), output_sets=()))
    by_mode = {b.joint_mode: b for b in report.backdrop_agreement}
    assert by_mode["cross"].samples == 32 and by_mode["cross"].fraction == 1.0
    assert 0.25 <= by_mode["reference"].fraction <= 0.75  # uncoupled: chance 0.5


def test_a_model_that_ignores_its_conditions_scores_near_chance() -> None:
    settings = ev.EvalSettings(samples=24, input_sets=((T,), (A,)), output_sets=((I,), (V, A)), joint_modes=())
    report = ev.evaluate(guesser, settings)
    for cell in report.cells:
        pooled = (cell.accuracy["seen"].right + cell.accuracy["held_out"].right) / (
            cell.accuracy["seen"].judged + cell.accuracy["held_out"].judged
        )
        assert abs(pooled - cell.chance) < 0.12, (cell.inputs, cell.outputs, pooled, cell.chance)
    agreement = report.cell([T], [V, A]).agreement
    assert agreement is not None and agreement["seen"].fraction < 0.6


def test_a_missing_output_is_judged_wrong() -> None:
    def only_video(call: ev.GenerationCall) -> dict[Modality, MediaValue]:
        return {V: oracle(call)[V]} if V in call.outputs else {}

    report = ev.evaluate(only_video, ev.EvalSettings(samples=2, input_sets=((T,),), output_sets=((V, A),), joint_modes=()))
    cell = report.cell([T], [V, A])
    assert cell.accuracy["seen"].per_attribute["backdrop"] == [2, 2]  # only video carries it: right
    assert cell.accuracy["seen"].fraction == pytest.approx(8 / 14)  # 4 video right of 4, 0 audio of 3, twice
    assert cell.accuracy["seen"].unreadable == 6  # the missing audio could not be read
    assert cell.agreement is not None and cell.agreement["seen"].fraction == 0.0


# ---------------------------------------------------------------- conditions


def test_conditions_come_from_one_scene_and_the_right_split() -> None:
    calls: list[tuple[ev.GenerationCall, dict[str, str]]] = []

    def spy(call: ev.GenerationCall) -> dict[Modality, MediaValue]:
        verdicts = [judges.judge(v) for v in call.conditions]
        merged: dict[str, str] = {}
        for verdict in verdicts:
            for attribute, value in verdict.items():
                assert merged.setdefault(attribute, value) == value, "conditions disagree"
        calls.append((call, merged))
        return {m: Text("") for m in call.outputs}

    ev.evaluate(spy, ev.EvalSettings(samples=10, input_sets=((T, I, A),), output_sets=((T,),), joint_modes=()))
    assert len(calls) == 20
    kinds = [tuple(type(v).__name__ for v in call.conditions) for call, _ in calls]
    assert set(kinds) == {("Text", "Image", "Audio")}
    scenes = [world.Scene(**merged) for _, merged in calls]
    assert all(s in world.TRAIN_SCENES for s in scenes[:10])
    assert all(s in world.HELD_OUT for s in scenes[10:]) and len(set(scenes[10:])) == 8  # cycles all 8
    assert len({call.seed for call, _ in calls}) == 20


def test_the_eval_is_deterministic() -> None:
    settings = ev.EvalSettings(samples=3, input_sets=((A,),), output_sets=((T,), (I,)), joint_modes=("reference",))
    first, second = ev.evaluate(oracle, settings).to_json(), ev.evaluate(oracle, settings).to_json()
    for report in (first, second):
        report.pop("seconds")
        for cell in report["cells"]:
            cell.pop("seconds_per_sample")
    assert first == second


# ---------------------------------------------------------------- output


def test_table_and_json() -> None:
    settings = ev.EvalSettings(samples=1, input_sets=((T,), (I, A)), output_sets=((A,), (V, A)), joint_modes=("cross",))
    report = ev.evaluate(oracle, settings)
    table = report.to_markdown()
    lines = table.splitlines()
    assert "| inputs \\ outputs | audio | video+audio |" in lines
    assert "| text | 1.00 / 1.00 (0.28) | 1.00 / 1.00 (0.31) |" in lines
    assert any(line.startswith("| image+audio | 1.00 / 1.00 (0.28)* |") for line in lines)
    assert "| backdrops agree | 1.00 (2/2) |" in lines
    assert "unreadable judgements (output unlike the toy world; counted wrong): 0/40 = 0.00" in lines
    data = json.loads(json.dumps(report.to_json()))
    assert data["world_version"] == 1
    assert data["cells"][0]["seen"]["per_attribute"]["color"] == {"right": 1, "judged": 1}
    assert data["audio_to_image_video_backdrop_agreement"][0]["fraction"] == 1.0
    assert data["cells"][1]["agreement"]["seen"]["fraction"] == 1.0


def test_progress_lines_name_each_cell() -> None:
    lines: list[str] = []
    ev.evaluate(oracle, ev.EvalSettings(samples=1, input_sets=((T,),), output_sets=((A,),), joint_modes=("cross",)), lines.append)
    assert "text -> audio" in lines[0] and "chance 0.28" in lines[0]
    assert lines[1].startswith("audio -> image+video (cross)")


def test_failing_generations_are_counted_wrong_and_reported() -> None:
    def no_audio(call: ev.GenerationCall) -> dict[Modality, MediaValue]:
        if A in call.outputs:
            raise RuntimeError("this model has no audio part")
        return oracle(call)

    settings = ev.EvalSettings(samples=1, input_sets=((T,),), output_sets=((I,), (A,)), joint_modes=())
    report = ev.evaluate(no_audio, settings)
    assert report.cell([T], [I]).accuracy["seen"].fraction == 1.0
    failed = report.cell([T], [A])
    assert failed.failures == 2 and failed.accuracy["seen"].fraction == 0.0
    table = report.to_markdown()
    assert "| text | 1.00 / 1.00 (0.33) | 0.00 / 0.00 (0.28)! |" in table
    assert "text -> audio: 2/2 failed, first: RuntimeError: this model has no audio part" in table
