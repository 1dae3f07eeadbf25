"""`codi-studio eval`: measure a model on the toy world (toyworld.md), print the table."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from codi_studio.cli import UsageError
from codi_studio.media.values import Modality
from codi_studio.service.requests import SAMPLERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a model on the toy world",
        description="Render toy-world conditions with a fixed seed, generate every output set from every "
        "input set, judge the outputs with plain signal processing and print the fraction of attributes "
        "right (seen / held-out scenes, chance beside it).",
    )
    p.add_argument("--model", default=None, help="model name or folder (default: the embedded toy-v1)")
    p.add_argument("--samples", type=int, default=8, help="samples per cell and split (default 8)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the full results as JSON")
    p.add_argument("--steps", type=int, default=None, help="sampling steps (default: 50 for ddim, 20 for dpmpp)")
    p.add_argument("--sampler", choices=SAMPLERS, default="ddim")
    p.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--seed", type=int, default=0, help="seed of the conditions and the generations")
    p.add_argument("--inputs", default=None, metavar="SETS",
                   help="only these input sets, comma-separated, modalities joined by + "
                   "(e.g. text,image+audio; default: all 8 rows)")
    p.add_argument("--outputs", default=None, metavar="SETS",
                   help="only these output sets (e.g. image,video+audio; default: all 5 columns)")
    p.add_argument("--joint-modes", default="cross,reference", metavar="MODES",
                   help="joint modes for the audio -> image+video backdrop figure ('' skips it)")
    p.add_argument("--quiet", action="store_true", help="no per-cell progress lines")
    p.set_defaults(func=run)


def parse_sets(text: str | None, option: str) -> tuple[tuple[Modality, ...], ...] | None:
    """'text,image+audio' -> ((TEXT,), (IMAGE, AUDIO)); None keeps the default sets."""
    if text is None:
        return None
    sets = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            modalities = tuple(Modality.parse(name) for name in item.split("+"))
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None
        if len(set(modalities)) != len(modalities):
            raise UsageError(f"{option}: {item!r} repeats a modality")
        sets.append(modalities)
    if not sets:
        raise UsageError(f"{option} names no modality set")
    return tuple(sets)


def parse_joint_modes(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    for mode in modes:
        if mode not in ("cross", "reference"):
            raise UsageError(f"--joint-modes: unknown joint mode {mode!r} (expected cross or reference)")
    return modes


def run(args: argparse.Namespace) -> int:
    if args.samples < 1:
        raise UsageError("--samples must be at least 1")
    steps = args.steps if args.steps is not None else (50 if args.sampler == "ddim" else 20)
    if steps < 1:
        raise UsageError("--steps must be at least 1")
    if args.json is not None and not args.json.parent.exists():
        raise UsageError(f"{args.json}: folder {args.json.parent} does not exist")
    input_sets = parse_sets(args.inputs, "--inputs")
    output_sets = parse_sets(args.outputs, "--outputs")
    joint_modes = parse_joint_modes(args.joint_modes)

    from codi_studio.codi.model_store import ModelNotFound, resolve

    try:  # a cheap look first: a missing model is reported before torch is imported
        resolve(args.model)
    except ModelNotFound as exc:
        print(f"codi-studio eval: error: {exc}", file=sys.stderr)
        return 1

    from codi_studio.service.generation import GenerationService
    from codi_studio.toyworld.evaluation import EvalSettings, evaluate, service_generator

    service = GenerationService(device=args.device)
    try:
        info = service.load_model(args.model)
    except Exception as exc:  # a missing or damaged model: say which and why
        print(f"codi-studio eval: error: {exc}", file=sys.stderr)
        return 1
    generator = service_generator(service, steps=steps, sampler=args.sampler, guidance=args.guidance)
    settings = EvalSettings(samples=args.samples, seed=args.seed, joint_modes=joint_modes)
    if input_sets is not None:
        settings = replace(settings, input_sets=input_sets)
    if output_sets is not None:
        settings = replace(settings, output_sets=output_sets)
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    report = evaluate(generator, settings, progress)
    report.model = {"id": info.id, "name": info.name, "content_hash": info.content_hash, "device": info.device}
    report.generation = {
        "sampler": args.sampler,
        "steps": steps,
        "guidance": args.guidance if args.guidance is not None else service.defaults().get("guidance"),
    }
    print(report.to_markdown())
    if args.json is not None:
        try:
            args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        except OSError as exc:
            print(f"codi-studio eval: error: {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    return 0
