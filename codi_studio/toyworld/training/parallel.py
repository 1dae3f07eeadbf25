"""Runs independent training stages side by side, one process per stage.

Stages form a small graph (the autoencoders and the encoders do not need each
other; the three diffusers only need the cache). On a machine with several
cores the run finishes sooner when independent stages run at the same time,
each in its own process with one torch thread: one thread per process is the
fastest use of a small CPU (OpenMP threads fighting over cores slow every
stage down). A bottleneck stage (every other stage comes before or after it,
so nothing can run beside it) gets one thread per job instead: the joint
stage runs 1.3x faster on two threads than on one. A stage's weights are those
of a sequential run with the same thread count for that stage
(`stage_threads`).

A child process runs exactly one stage through `run_stages`, so checkpoints,
resumption and determinism are the sequential runner's. Its progress lines come
back through a queue and the parent is the only writer of the log.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from codi_studio.toyworld.training.runner import Stage, TrainingError, is_done

Progress = Callable[[str], None]


def _child(out: str, recipe: Any, seed: int, init_from: str | None, name: str, threads: int,
           messages: "mp.Queue[str]") -> None:
    from codi_studio.toyworld.training import build_stages
    from codi_studio.toyworld.training.runner import RunContext, run_stages
    from codi_studio.toyworld.training.tokenizer import load_tokenizers

    ctx = RunContext(recipe, Path(out), seed, messages.put, Path(init_from) if init_from else None)
    stages = build_stages(load_tokenizers(Path(out) / "tokenizers"))  # the parent wrote them
    try:
        run_stages(stages, ctx, only=[name], threads=lambda _: threads)
    except Exception as exc:  # reported through the parent, which names the stage and stops the run
        messages.put(f"[{name}] error: {type(exc).__name__}: {exc}")
        raise SystemExit(1) from exc


def bottlenecks(needs: Mapping[str, Sequence[str]]) -> set[str]:
    """Stages that every other stage comes before or after (directly or not): they always run alone."""
    before: dict[str, set[str]] = {}

    def ancestors(name: str) -> set[str]:
        if name not in before:
            before[name] = set()
            for n in needs.get(name, ()):
                before[name] |= {n} | ancestors(n)
        return before[name]

    names = list(needs)
    return {a for a in names if all(b == a or b in ancestors(a) or a in ancestors(b) for b in names)}


def stage_threads(needs: Mapping[str, Sequence[str]], jobs: int) -> Callable[[str], int]:
    """Torch threads per stage in a run of `jobs` processes: all of them for a bottleneck, else one."""
    wide = bottlenecks(needs)
    return lambda name: jobs if name in wide else 1


def ready_stages(pending: Sequence[str], needs: Mapping[str, Sequence[str]], finished: set[str]) -> list[str]:
    """Pending stages whose prerequisites have all finished, in the given order."""
    return [name for name in pending if all(n in finished for n in needs.get(name, ()))]


def run_parallel(stages: Sequence[Stage], priority: Sequence[str], jobs: int, out: Path,
                 recipe: Any, seed: int, init_from: Path | None, progress: Progress,
                 poll_seconds: float = 0.2) -> None:
    """Run every unfinished stage, at most `jobs` at once, each once the stages it `needs` are done.

    `priority` orders the stage names: among ready stages, the earlier ones start first.
    A failed stage stops the run: the others are terminated (their checkpoints
    are atomic, so a rerun resumes cleanly) and TrainingError names the stage.
    """
    names = sorted((s.name for s in stages), key=list(priority).index)
    needs = {s.name: s.needs for s in stages}
    threads = stage_threads(needs, jobs)
    stage_dir = out / "stages"
    stage_dir.mkdir(parents=True, exist_ok=True)
    finished = {n for n in names if is_done(stage_dir, n)}
    for n in names:
        if n in finished:
            progress(f"stage {n}: already finished, skipped")
    pending = [n for n in names if n not in finished]
    context = mp.get_context("spawn")  # a fresh interpreter: no torch/OpenMP state inherited from the parent
    messages: "mp.Queue[str]" = context.Queue()
    running: dict[str, Any] = {}

    def drain() -> None:
        while True:
            try:
                progress(messages.get_nowait())
            except queue.Empty:
                return

    try:
        while pending or running:
            for name in ready_stages(pending, needs, finished)[: max(0, jobs - len(running))]:
                pending.remove(name)
                proc = context.Process(target=_child, name=f"train-{name}", daemon=True,
                                       args=(str(out), recipe, seed, str(init_from) if init_from else None,
                                             name, threads(name), messages))
                proc.start()
                running[name] = proc
            if not running and pending:
                raise TrainingError(f"stages {', '.join(pending)} wait for stages that are not in this run")
            time.sleep(poll_seconds)
            drain()
            for name, proc in list(running.items()):
                if proc.is_alive():
                    continue
                proc.join()
                del running[name]
                if proc.exitcode != 0 or not is_done(stage_dir, name):
                    drain()
                    raise TrainingError(f"stage {name} failed (exit code {proc.exitcode}); see "
                                        f"{out / 'train.log'}, then rerun the same command to resume")
                finished.add(name)
        drain()
    finally:
        for proc in running.values():
            proc.terminate()
        for proc in running.values():
            proc.join()
