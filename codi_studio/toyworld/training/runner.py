"""Runs a list of training stages with one checkpoint per stage, so a rerun resumes.

A stage is finished when `<out>/stages/<name>.json` says so; its tensors live
beside it in `<name>.safetensors`. The json is written last (atomically), so a
stage killed half-way simply runs again. Each stage seeds torch and numpy from
the run seed and its own index, so a stage's result does not depend on whether
the stages before it ran in this process or were loaded from disk.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from safetensors.torch import load_file, save_file

log = logging.getLogger("codi_studio.train")


class TrainingError(Exception):
    """A training run cannot go on (bad output folder, damaged checkpoint, diverged loss)."""


@dataclass
class StageResult:
    tensors: dict[str, torch.Tensor]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[["RunContext"], StageResult]
    needs: tuple[str, ...] = ()


class RunContext:
    """What a stage sees: the recipe, the output folder, seeded generators, earlier stages' tensors."""

    def __init__(self, recipe: Any, out: Path, seed: int, progress: Callable[[str], None],
                 init_from: Path | None = None) -> None:
        self.recipe = recipe
        self.out = Path(out)
        # an earlier run whose stage checkpoints start this run's diffusers (training continued, not restarted)
        self.init_from = Path(init_from) if init_from is not None else None
        self.seed = seed
        self.progress = progress
        self.stage_name = ""
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self._cache: dict[str, dict[str, torch.Tensor]] = {}

    @property
    def stage_dir(self) -> Path:
        return self.out / "stages"

    def begin(self, stage: Stage) -> None:
        self.stage_name = stage.name
        stage_seed = (self.seed * 1_000_003 + zlib.crc32(stage.name.encode())) % (2**63)
        torch.manual_seed(stage_seed)
        self.rng = np.random.default_rng(stage_seed)
        self.generator = torch.Generator().manual_seed(stage_seed)

    def tensors(self, stage_name: str) -> dict[str, torch.Tensor]:
        """The saved tensors of a finished stage (loaded once, then kept)."""
        if stage_name not in self._cache:
            path = self.stage_dir / f"{stage_name}.safetensors"
            try:
                self._cache[stage_name] = load_file(str(path))
            except FileNotFoundError:
                raise TrainingError(f"{path}: checkpoint of stage {stage_name!r} is missing; rerun training") from None
            except Exception as exc:  # safetensors raises its own error types
                raise TrainingError(f"{path}: damaged checkpoint ({exc}); delete it to retrain the stage") from exc
        return self._cache[stage_name]

    def sub(self, stage_name: str, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors of a stage under `prefix.`, with the prefix removed (one module's state dict)."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.tensors(stage_name).items() if k.startswith(p)}

    def initial(self, stage_name: str, prefix: str) -> dict[str, torch.Tensor] | None:
        """A stage's tensors under `prefix.` from the `init_from` run, or None when there is none."""
        if self.init_from is None:
            return None
        path = self.init_from / "stages" / f"{stage_name}.safetensors"
        if not path.is_file():
            raise TrainingError(f"{path}: --init-from run has no checkpoint of stage {stage_name!r}")
        p = prefix + "."
        return {k[len(p):]: v for k, v in load_file(str(path)).items() if k.startswith(p)}

    def info(self, stage_name: str) -> dict[str, Any]:
        return json.loads((self.stage_dir / f"{stage_name}.json").read_text())

    def say(self, message: str) -> None:
        self.progress(f"[{self.stage_name}] {message}")


def is_done(stage_dir: Path, name: str) -> bool:
    meta = stage_dir / f"{name}.json"
    if not meta.exists():
        return False
    try:
        return bool(json.loads(meta.read_text()).get("done"))
    except (OSError, json.JSONDecodeError):
        return False


def run_stages(stages: Sequence[Stage], ctx: RunContext, only: Sequence[str] | None = None,
               threads: Callable[[str], int] | None = None) -> dict[str, dict[str, Any]]:
    """Run every unfinished stage in order; return each stage's info (loaded for skipped ones).

    `threads` maps a stage name to its torch thread count (default: leave the process's setting);
    results are reproducible for the same thread count per stage.
    """
    ctx.stage_dir.mkdir(parents=True, exist_ok=True)
    infos: dict[str, dict[str, Any]] = {}
    for index, stage in enumerate(stages, start=1):
        if only is not None and stage.name not in only:
            continue
        ctx.begin(stage)
        if is_done(ctx.stage_dir, stage.name):
            infos[stage.name] = ctx.info(stage.name)
            ctx.progress(f"stage {index}/{len(stages)} {stage.name}: already finished, skipped")
            continue
        if threads is not None:
            torch.set_num_threads(threads(stage.name))
        count = torch.get_num_threads()
        ctx.progress(f"stage {index}/{len(stages)} {stage.name}: starting ({count} thread{'s' * (count > 1)})")
        started = time.monotonic()
        result = stage.run(ctx)
        seconds = time.monotonic() - started
        for key, value in result.tensors.items():
            if not torch.isfinite(value.float()).all():
                raise TrainingError(f"stage {stage.name}: tensor {key} is not finite; training diverged")
        tensor_path = ctx.stage_dir / f"{stage.name}.safetensors"
        tmp = tensor_path.with_suffix(".safetensors.tmp")
        save_file({k: v.detach().contiguous().cpu() for k, v in result.tensors.items()}, str(tmp))
        tmp.replace(tensor_path)
        ctx._cache.pop(stage.name, None)
        info = {"done": True, "stage": stage.name, "seconds": round(seconds, 1), "threads": count,
                **result.info}
        meta = ctx.stage_dir / f"{stage.name}.json"
        meta_tmp = meta.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(info, indent=1))
        meta_tmp.replace(meta)
        infos[stage.name] = info
        ctx.progress(f"stage {index}/{len(stages)} {stage.name}: done in {seconds:.0f} s")
    return infos


def state_with_prefix(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in state.items()}
