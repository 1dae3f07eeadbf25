"""`codi-studio train`: train a CoDi model; the toy preset builds the embedded default (models/toy-v1)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from codi_studio.cli import UsageError

PRESET_NAMES = ("toy", "micro")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a CoDi model (the toy preset builds the embedded default)",
        description="Train a tiny CoDi on the toy world, stage by stage (autoencoders, aligned encoders, "
                    "diffusers, joint connectors). Each stage leaves a checkpoint in OUT/stages, so rerunning "
                    "the same command resumes; the model folder is written to OUT/model and a log to "
                    "OUT/train.log.",
    )
    p.add_argument("--preset", default="toy", help=f"recipe preset: {', '.join(PRESET_NAMES)} (default toy)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, and the model in OUT/model)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same model")
    p.add_argument("--minutes-scale", type=float, default=1.0,
                   help="multiply every stage's step count (0.1 = a quick, rough model; default 1)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads with --jobs 1 (default 1; results are reproducible for a fixed "
                        "thread count)")
    p.add_argument("--jobs", type=int, default=None,
                   help="stages run side by side, one process each (default: the CPU count, at most 4); "
                        "stages nothing can run beside get one thread per job; same --jobs, same weights")
    p.add_argument("--init-from", default=None, metavar="RUN",
                   help="continue the diffusers and connectors of an earlier run folder (its OUT)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.preset not in PRESET_NAMES:
        raise UsageError(f"unknown preset {args.preset!r} (expected one of: {', '.join(PRESET_NAMES)})")
    if not args.minutes_scale > 0:
        raise UsageError(f"--minutes-scale must be positive, got {args.minutes_scale}")
    if args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.jobs is not None and args.jobs > 1 and args.threads != 1:
        raise UsageError("--threads applies to --jobs 1 only: a parallel run sets each stage's threads")
    # --threads alone asks for one stage at a time with that many threads
    default_jobs = 1 if args.threads != 1 else max(1, min(4, os.cpu_count() or 1))
    jobs = args.jobs if args.jobs is not None else default_jobs
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")

    if args.init_from is not None and not (Path(args.init_from) / "stages").is_dir():
        raise UsageError(f"--init-from {args.init_from}: not a training run folder (no stages/)")

    from codi_studio.toyworld.training import TrainingError, train

    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:7.0f} s] {message}", flush=True)

    try:
        model = train(out, preset=args.preset, seed=args.seed, minutes_scale=args.minutes_scale,
                      threads=args.threads, progress=progress, init_from=args.init_from, jobs=jobs)
    except TrainingError as exc:
        print(f"codi-studio train: error: {exc}", file=sys.stderr)
        return 1
    print(f"model folder: {model}")
    return 0
