"""Does generation follow its conditions? The toy-world eval as numbers.

For every input-modality set (rows) and output-modality set (columns), conditions
are rendered from one toy-world scene with a fixed seed, a model generates, and
the judges read each output on the attributes both the conditions and the output
modality carry. A cell is the fraction of those attributes right, for seen
(training) scenes and held-out scenes apart, with chance beside it. Joint outputs
also report how often their two outputs agree with each other. The special
figure: audio -> image + video jointly, where audio carries no backdrop, so only
the joint coupling can make the two backdrops agree (chance 0.5), for joint mode
"cross" and "reference" side by side.

`evaluate()` takes any `Generator` (a callable from conditions to outputs):
`service_generator()` wraps the GenerationService for the real eval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from codi_studio.media.values import MediaValue, Modality
from codi_studio.toyworld import judges, world

T, I, A, V = Modality.TEXT, Modality.IMAGE, Modality.AUDIO, Modality.VIDEO

INPUT_SETS: tuple[tuple[Modality, ...], ...] = ((T,), (I,), (A,), (V,), (T, I), (T, A), (I, A), (T, I, A))
OUTPUT_SETS: tuple[tuple[Modality, ...], ...] = ((T,), (I,), (A,), (V,), (V, A))
JOINT_MODES = ("cross", "reference")
CHANCE: Mapping[str, float] = {"shape": 1 / 3, "color": 1 / 4, "motion": 1 / 4, "backdrop": 1 / 2}
SPLITS = ("seen", "held_out")


@dataclass(frozen=True)
class GenerationCall:
    conditions: tuple[MediaValue, ...]
    outputs: tuple[Modality, ...]
    seed: int
    joint_mode: str | None = None


# conditions -> one generated value per requested output modality
Generator = Callable[[GenerationCall], Mapping[Modality, MediaValue]]
ProgressReport = Callable[[str], None]


@dataclass(frozen=True)
class EvalSettings:
    samples: int = 8  # per cell and split (seen / held-out)
    seed: int = 0
    input_sets: tuple[tuple[Modality, ...], ...] = INPUT_SETS
    output_sets: tuple[tuple[Modality, ...], ...] = OUTPUT_SETS
    joint_modes: tuple[str, ...] = JOINT_MODES  # for the audio -> image + video figure; () skips it

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError("samples must be at least 1")
        for mode in self.joint_modes:
            if mode not in JOINT_MODES:
                raise ValueError(f"unknown joint mode {mode!r} (expected cross or reference)")


@dataclass
class Tally:
    """Right / judged counts, overall and per attribute."""

    right: int = 0
    judged: int = 0
    unreadable: int = 0  # judgements where the judge could not tell (output unlike the world)
    per_attribute: dict[str, list[int]] = field(default_factory=dict)

    def add(self, attribute: str, ok: bool, readable: bool = True) -> None:
        self.right += int(ok)
        self.judged += 1
        self.unreadable += int(not readable)
        counts = self.per_attribute.setdefault(attribute, [0, 0])
        counts[0] += int(ok)
        counts[1] += 1

    @property
    def fraction(self) -> float | None:
        return self.right / self.judged if self.judged else None

    def to_json(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "right": self.right,
            "judged": self.judged,
            "unreadable": self.unreadable,
            "per_attribute": {a: {"right": r, "judged": n} for a, (r, n) in sorted(self.per_attribute.items())},
        }


@dataclass
class Cell:
    inputs: tuple[Modality, ...]
    outputs: tuple[Modality, ...]
    judged: dict[Modality, tuple[str, ...]]  # attributes judged on each output
    accuracy: dict[str, Tally]  # split -> tally
    agreement: dict[str, Tally] | None  # joint outputs: split -> how often the outputs agree
    seconds: float = 0.0
    generations: int = 0
    failures: int = 0  # generations that raised: their outputs count as wrong
    first_error: str | None = None

    @property
    def same_modality(self) -> bool:
        """An output modality is also an input: allowed, but not a cross-modal cell."""
        return bool(set(self.inputs) & set(self.outputs))

    @property
    def chance(self) -> float:
        values = [CHANCE[a] for attributes in self.judged.values() for a in attributes]
        return float(np.mean(values)) if values else float("nan")

    @property
    def agreement_attributes(self) -> tuple[str, ...]:
        return shared_attributes(self.outputs)

    @property
    def agreement_chance(self) -> float:
        return float(np.mean([CHANCE[a] for a in self.agreement_attributes]))

    @property
    def seconds_per_sample(self) -> float:
        return self.seconds / self.generations if self.generations else float("nan")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "inputs": [m.value for m in self.inputs],
            "outputs": [m.value for m in self.outputs],
            "judged": {m.value: list(a) for m, a in self.judged.items()},
            "chance": self.chance,
            "same_modality": self.same_modality,
            **{split: tally.to_json() for split, tally in self.accuracy.items()},
            "seconds_per_sample": self.seconds_per_sample,
            "failures": self.failures,
            "first_error": self.first_error,
        }
        if self.agreement is not None:
            out["agreement"] = {split: tally.to_json() for split, tally in self.agreement.items()}
            out["agreement_chance"] = self.agreement_chance
        return out


@dataclass
class BackdropAgreement:
    """audio -> image + video: do the two outputs' backdrops agree? (audio carries none)."""

    joint_mode: str
    agree: int = 0
    samples: int = 0
    chance: float = 0.5
    failures: int = 0
    first_error: str | None = None

    @property
    def fraction(self) -> float | None:
        return self.agree / self.samples if self.samples else None

    def to_json(self) -> dict[str, Any]:
        return {
            "joint_mode": self.joint_mode,
            "fraction": self.fraction,
            "agree": self.agree,
            "samples": self.samples,
            "chance": self.chance,
            "failures": self.failures,
            "first_error": self.first_error,
        }


@dataclass
class EvalReport:
    settings: EvalSettings
    cells: list[Cell]
    backdrop_agreement: list[BackdropAgreement]
    model: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)  # steps, sampler, guidance
    seconds: float = 0.0

    def cell(self, inputs: Sequence[Modality], outputs: Sequence[Modality]) -> Cell:
        for c in self.cells:
            if c.inputs == tuple(inputs) and c.outputs == tuple(outputs):
                return c
        raise KeyError(f"no cell {_label(inputs)} -> {_label(outputs)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "world_version": world.WORLD_VERSION,
            "model": self.model,
            "generation": self.generation,
            "samples_per_cell_and_split": self.settings.samples,
            "seed": self.settings.seed,
            "chance_per_attribute": dict(CHANCE),
            "cells": [c.to_json() for c in self.cells],
            "audio_to_image_video_backdrop_agreement": [b.to_json() for b in self.backdrop_agreement],
            "seconds": self.seconds,
        }

    def to_markdown(self) -> str:
        return format_report(self)


# ---------------------------------------------------------------------------
# what is judged


def judged_attributes(inputs: Sequence[Modality], output: Modality) -> tuple[str, ...]:
    """Attributes that both some condition and the output modality carry."""
    given = {a for m in inputs for a in judges.CARRIES[m]}
    return tuple(a for a in world.ATTRIBUTES if a in given and a in judges.CARRIES[output])


def shared_attributes(outputs: Sequence[Modality]) -> tuple[str, ...]:
    """Attributes every one of the outputs carries (what joint outputs can agree on)."""
    return tuple(a for a in world.ATTRIBUTES if all(a in judges.CARRIES[m] for m in outputs))


def agree(verdicts: Sequence[Mapping[str, str | None]], attribute: str) -> bool:
    values = [v.get(attribute) for v in verdicts]
    return values[0] is not None and all(x == values[0] for x in values)


# ---------------------------------------------------------------------------
# running it


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0] & 0x7FFFFFFF)


def _scenes(split: str, n: int, rng: np.random.Generator) -> list[world.Scene]:
    """n scenes of the split, cycling through all of them in a shuffled order."""
    pool = list(world.TRAIN_SCENES if split == "seen" else world.HELD_OUT_SCENES)
    order: list[world.Scene] = []
    while len(order) < n:
        order.extend(pool[i] for i in rng.permutation(len(pool)))
    return order[:n]


def condition_values(drawn: world.Sample, inputs: Sequence[Modality]) -> tuple[MediaValue, ...]:
    """The sample's media for each input modality: one scene, one jitter draw."""
    return tuple(getattr(drawn, m.value) for m in inputs)


def _conditions(settings: EvalSettings, row: int, split: int) -> list[tuple[world.Scene, world.Sample]]:
    """The same conditions for every output column of a row: a fixed seed per row and split."""
    rng = _rng(settings.seed, 1, row, split)
    scenes = _scenes(SPLITS[split], settings.samples, rng)
    return [(scene, world.sample(scene, rng)) for scene in scenes]


def evaluate(
    generate: Generator,
    settings: EvalSettings = EvalSettings(),
    report: ProgressReport | None = None,
) -> EvalReport:
    started = time.perf_counter()
    cells: list[Cell] = []
    for row, inputs in enumerate(settings.input_sets):
        conditions = [_conditions(settings, row, split) for split in range(len(SPLITS))]
        for column, outputs in enumerate(settings.output_sets):
            cell = _run_cell(generate, settings, inputs, outputs, conditions, row, column)
            cells.append(cell)
            if report is not None:
                report(_progress_line(cell))
    agreement = [_backdrop_agreement(generate, settings, mode) for mode in settings.joint_modes]
    if report is not None:
        for b in agreement:
            report(f"audio -> image+video ({b.joint_mode}): backdrops agree {_pct(b.fraction)}")
    return EvalReport(settings, cells, agreement, seconds=time.perf_counter() - started)


def _run_cell(
    generate: Generator,
    settings: EvalSettings,
    inputs: tuple[Modality, ...],
    outputs: tuple[Modality, ...],
    conditions: list[list[tuple[world.Scene, world.Sample]]],
    row: int,
    column: int,
) -> Cell:
    judged = {m: judged_attributes(inputs, m) for m in outputs}
    joint = len(outputs) > 1
    cell = Cell(
        inputs=inputs,
        outputs=outputs,
        judged=judged,
        accuracy={s: Tally() for s in SPLITS},
        agreement={s: Tally() for s in SPLITS} if joint else None,
    )
    for split_index, split in enumerate(SPLITS):
        for i, (scene, drawn) in enumerate(conditions[split_index]):
            call = GenerationCall(condition_values(drawn, inputs), outputs, _seed(settings.seed, 2, row, column, split_index, i))
            tick = time.perf_counter()
            try:
                generated = generate(call)
            except Exception as exc:  # one failing generation must not end the whole eval
                generated = {}
                cell.failures += 1
                cell.first_error = cell.first_error or f"{type(exc).__name__}: {exc}"
            cell.seconds += time.perf_counter() - tick
            cell.generations += 1
            verdicts = [_verdict(generated, m) for m in outputs]
            for output, verdict in zip(outputs, verdicts):
                for attribute, ok in judges.score(verdict, scene, judged[output]).items():
                    cell.accuracy[split].add(attribute, ok, readable=verdict.get(attribute) is not None)
            if cell.agreement is not None:
                for attribute in shared_attributes(outputs):
                    cell.agreement[split].add(attribute, agree(verdicts, attribute))
    return cell


def _verdict(generated: Mapping[Modality, MediaValue], modality: Modality) -> dict[str, str | None]:
    value = generated.get(modality)
    if value is None:  # a missing output is judged all wrong, not skipped
        return dict.fromkeys(judges.CARRIES[modality])
    return judges.judge(value)


def _backdrop_agreement(generate: Generator, settings: EvalSettings, joint_mode: str) -> BackdropAgreement:
    result = BackdropAgreement(joint_mode)
    rng = _rng(settings.seed, 3)
    scenes = _scenes("seen", settings.samples, rng) + _scenes("held_out", settings.samples, rng)
    for i, scene in enumerate(scenes):
        audio = world.render_audio(scene, rng)
        # the same generation seed for both modes: only the joint coupling differs
        call = GenerationCall((audio,), (I, V), _seed(settings.seed, 4, i), joint_mode)
        try:
            generated = generate(call)
        except Exception as exc:  # counted as disagreeing, reported once
            generated = {}
            result.failures += 1
            result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
        verdicts = [_verdict(generated, m) for m in (I, V)]
        result.agree += int(agree(verdicts, "backdrop"))
        result.samples += 1
    return result


# ---------------------------------------------------------------------------
# the real generator


def service_generator(
    service: Any,
    steps: int = 50,
    sampler: str = "ddim",
    guidance: float | None = None,
) -> Generator:
    """Generate through a loaded GenerationService, one request per call, equal condition weights."""
    from codi_studio.service.requests import Condition, GenerationRequest

    if guidance is None:
        guidance = float(service.defaults().get("guidance", 7.5)) if hasattr(service, "defaults") else 7.5

    def generate(call: GenerationCall) -> Mapping[Modality, MediaValue]:
        request = GenerationRequest(
            conditions=[Condition(value, 1.0) for value in call.conditions],
            outputs=list(call.outputs),
            seed=call.seed,
            steps=steps,
            guidance=guidance,
            sampler=sampler,
            joint_mode=call.joint_mode,
        )
        return service.generate(request).samples[0]

    return generate


# ---------------------------------------------------------------------------
# the table


def _label(modalities: Sequence[Modality]) -> str:
    return "+".join(m.value for m in modalities)


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.2f}"


def _progress_line(cell: Cell) -> str:
    seen, held = cell.accuracy["seen"].fraction, cell.accuracy["held_out"].fraction
    judged = sum(t.judged for t in cell.accuracy.values())
    unreadable = sum(t.unreadable for t in cell.accuracy.values()) / judged if judged else 0.0
    return (
        f"{_label(cell.inputs):>15} -> {_label(cell.outputs):<11} seen {_pct(seen)}  held-out {_pct(held)}"
        f"  chance {cell.chance:.2f}  unreadable {unreadable:.2f}  ({cell.seconds_per_sample:.2f} s/sample)"
        + (f"  {cell.failures} failed: {cell.first_error}" if cell.failures else "")
    )


def format_report(report: EvalReport) -> str:
    """The table, markdown-style: each cell 'seen / held-out (chance)'."""
    outputs = list(dict.fromkeys(c.outputs for c in report.cells))
    inputs = list(dict.fromkeys(c.inputs for c in report.cells))
    lines = []
    if report.model:
        lines.append(f"model: {report.model.get('id', '?')} ({report.model.get('name', '')})")
    if report.generation:
        lines.append("generation: " + ", ".join(f"{k} {v}" for k, v in report.generation.items()))
    lines.append(
        f"samples per cell: {report.settings.samples} seen + {report.settings.samples} held-out, seed {report.settings.seed}"
    )
    lines.append("")
    lines.append("Fraction of judged attributes right: seen / held-out (chance). "
                 "* = output modality is also an input; ! = some generations failed (listed below).")
    lines.append("")
    header = ["inputs \\ outputs"] + [_label(o) for o in outputs]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] * len(header)) + "|")
    by_key = {(c.inputs, c.outputs): c for c in report.cells}
    for row in inputs:
        entries = [_label(row)]
        for column in outputs:
            cell = by_key.get((row, column))
            entries.append("" if cell is None else _cell_text(cell))
        lines.append("| " + " | ".join(entries) + " |")
    judged = sum(t.judged for c in report.cells for t in c.accuracy.values())
    if judged:
        unreadable = sum(t.unreadable for c in report.cells for t in c.accuracy.values())
        lines.append("")
        lines.append(f"unreadable judgements (output unlike the toy world; counted wrong): {unreadable}/{judged}"
                     f" = {unreadable / judged:.2f}")
    joint = [c for c in report.cells if c.agreement is not None]
    if joint:
        lines.append("")
        lines.append("Joint outputs: how often the outputs agree with each other (on "
                     + ", ".join(joint[0].agreement_attributes) + "): seen / held-out (chance).")
        lines.append("")
        lines.append("| inputs | outputs | agreement |")
        lines.append("|---|---|---|")
        for c in joint:
            assert c.agreement is not None
            lines.append(
                f"| {_label(c.inputs)} | {_label(c.outputs)} | {_pct(c.agreement['seen'].fraction)} / "
                f"{_pct(c.agreement['held_out'].fraction)} ({c.agreement_chance:.2f}) |"
            )
    if report.backdrop_agreement:
        lines.append("")
        lines.append("audio -> image + video jointly: fraction of samples whose image and video backdrops agree "
                     "(audio carries no backdrop; chance 0.50).")
        lines.append("")
        lines.append("| joint mode | " + " | ".join(b.joint_mode for b in report.backdrop_agreement) + " |")
        lines.append("|---|" + "---|" * len(report.backdrop_agreement))
        lines.append(
            "| backdrops agree | "
            + " | ".join(f"{_pct(b.fraction)} ({b.agree}/{b.samples})" for b in report.backdrop_agreement)
            + " |"
        )
    failed = [(f"{_label(c.inputs)} -> {_label(c.outputs)}", c.failures, c.generations, c.first_error) for c in report.cells]
    failed += [(f"audio -> image+video ({b.joint_mode})", b.failures, b.samples, b.first_error) for b in report.backdrop_agreement]
    failed = [f for f in failed if f[1]]
    if failed:
        lines.append("")
        lines.append("! generations that failed (their outputs count as wrong):")
        for label, count, total, error in failed:
            lines.append(f"  {label}: {count}/{total} failed, first: {error}")
    if report.seconds:
        lines.append("")
        lines.append(f"took {report.seconds:.1f} s")
    return "\n".join(lines)


def _cell_text(cell: Cell) -> str:
    mark = ("*" if cell.same_modality else "") + ("!" if cell.failures else "")
    seen, held = cell.accuracy["seen"].fraction, cell.accuracy["held_out"].fraction
    return f"{_pct(seen)} / {_pct(held)} ({cell.chance:.2f}){mark}"
