"""`codi-studio generate`: any mix of inputs -> any set of outputs, one job or a JSONL batch.

Each job writes its outputs (text.txt, image.png, audio.wav, video.mp4 with the
generated audio muxed in when both were asked) and a manifest.json holding
every parameter, the model id and hash, and timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from codi_studio.cli import UsageError
from codi_studio.media.values import Modality
from codi_studio.service.requests import SAMPLERS


@dataclass
class InputSpec:
    modality: Modality
    value: str  # text itself, or a file path
    weight: float = 1.0


@dataclass
class JobSpec:
    inputs: list[InputSpec]
    outputs: list[Modality]
    out: Path
    seed: int = 0
    steps: int | None = None
    guidance: float | None = None
    sampler: str | None = None
    n_samples: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


class _AddInput(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
        items = getattr(namespace, "inputs", None) or []
        items.append(InputSpec(Modality(self.dest.removeprefix("input_")), str(values)))
        namespace.inputs = items


class _SetWeight(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
        items = getattr(namespace, "inputs", None) or []
        if not items:
            parser.error("--weight must follow an input (--text, --image, --audio or --video)")
        items[-1].weight = float(values)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate media from any mix of text, image, audio and video",
        description="Generate any set of modalities from any weighted mix of inputs. "
        "Example: codi-studio generate --text 'a blue square moving up at night' "
        "--out-modalities video,audio --out out/",
    )
    p.set_defaults(inputs=[])
    for m in Modality:
        metavar = "TEXT" if m is Modality.TEXT else "PATH"
        p.add_argument(f"--{m.value}", dest=f"input_{m.value}", action=_AddInput, metavar=metavar,
                       help=f"a {m.value} condition (repeatable); follow with --weight W to weight it")
    p.add_argument("--weight", action=_SetWeight, type=float, metavar="W",
                   help="mixing weight of the input just before it (default 1)")
    p.add_argument("--out-modalities", default=None, metavar="LIST",
                   help="comma-separated outputs: text,image,audio,video")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder for the outputs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    p.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale")
    p.add_argument("--sampler", choices=SAMPLERS, default=None)
    p.add_argument("--samples", dest="n_samples", type=int, default=1, help="samples per job")
    p.add_argument("--model", default=None, help="model name or folder (default: the embedded toy-v1)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--joint-mode", choices=("cross", "reference"), default=None,
                   help="override the model's joint-generation mode")
    p.add_argument("--batch", type=Path, default=None, metavar="FILE.jsonl",
                   help="many jobs, one JSON object a line, with one model load")
    p.add_argument("--project", type=Path, default=None, metavar="FILE.codi",
                   help="also record inputs and results as versions in this project")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def parse_outputs(text: str | None) -> list[Modality]:
    if not text:
        raise UsageError("--out-modalities is required (e.g. --out-modalities image,audio)")
    try:
        outputs = [Modality.parse(t) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not outputs:
        raise UsageError("--out-modalities names no modality")
    if len(set(outputs)) != len(outputs):
        raise UsageError("--out-modalities repeats a modality")
    return outputs


def job_from_args(args: argparse.Namespace) -> JobSpec:
    if not args.inputs:
        raise UsageError("give at least one input (--text, --image, --audio or --video)")
    if args.out is None:
        raise UsageError("--out DIR is required")
    for spec in args.inputs:
        if spec.modality is not Modality.TEXT and not Path(spec.value).is_file():
            raise UsageError(f"{spec.value}: no such file")
    return JobSpec(args.inputs, parse_outputs(args.out_modalities), args.out, args.seed,
                   args.steps, args.guidance, args.sampler, args.n_samples)


def job_from_json(line: str, number: int, base: Path) -> JobSpec:
    """One batch line -> a job; relative paths are taken from the batch file's folder."""
    try:
        d = json.loads(line)
        inputs = []
        for item in d["inputs"]:
            modality = Modality.parse(item["modality"])
            if modality is Modality.TEXT:
                value = str(item["text"])
            else:
                path = Path(item["path"])
                value = str(path if path.is_absolute() else base / path)
            inputs.append(InputSpec(modality, value, float(item.get("weight", 1.0))))
        outputs = [Modality.parse(o) for o in d["outputs"]]
        out = Path(d.get("out", f"job{number}"))
        return JobSpec(inputs, outputs, out if out.is_absolute() else base / out, int(d.get("seed", 0)),
                       d.get("steps"), d.get("guidance"), d.get("sampler"), int(d.get("n_samples", 1)))
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise UsageError(f"batch line {number}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from codi_studio.service.generation import GenerationService
    from codi_studio.service.jobs import run_job

    if args.batch is not None:
        if args.inputs:
            raise UsageError("--batch cannot be combined with inline inputs")
        try:
            lines = args.batch.read_text().splitlines()
        except OSError as exc:
            raise UsageError(f"{args.batch}: {exc.strerror or exc}") from None
        jobs: list[JobSpec | Exception] = []
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    jobs.append(job_from_json(line, number, args.batch.parent))
                except UsageError as exc:
                    jobs.append(exc)
    else:
        jobs = [job_from_args(args)]
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be at least 1")

    service = GenerationService(device=args.device)
    try:
        service.load_model(args.model)
    except Exception as exc:  # a missing or damaged model is the user's to fix: say which and why
        print(f"codi-studio generate: error: {exc}", file=sys.stderr)
        return 1
    failures = 0
    for index, job in enumerate(jobs, 1):
        label = f"job {index}/{len(jobs)}" if len(jobs) > 1 else "job"
        if isinstance(job, Exception):
            failures += 1
            print(f"{label} failed: {job}", file=sys.stderr)
            continue
        if args.sampler and job.sampler is None:
            job.sampler = args.sampler
        if args.steps and job.steps is None:
            job.steps = args.steps
        if args.guidance is not None and job.guidance is None:
            job.guidance = args.guidance
        started = time.perf_counter()
        try:
            written = run_job(service, job, joint_mode=args.joint_mode, project=args.project,
                              show_progress=not args.quiet)
        except Exception as exc:  # one failed job must not stop the batch
            failures += 1
            print(f"{label} failed: {exc}", file=sys.stderr)
            continue
        if not args.quiet:
            names = ", ".join(p.name for p in written)
            print(f"{label}: wrote {names} to {job.out} in {time.perf_counter() - started:.1f} s")
    return 1 if failures else 0


def main(argv: Sequence[str]) -> int:  # pragma: no cover - convenience for python -m
    from codi_studio.cli import main as cli_main

    return cli_main(["generate", *argv])
