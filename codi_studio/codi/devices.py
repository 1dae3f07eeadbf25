"""Device and precision choice: CUDA in half precision when present, CPU in float32 always."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {device!r} (use auto, cpu or cuda)") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda asked for, but no CUDA GPU is available (use auto or cpu)")
    return resolved


def default_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def parse_dtype(name: str | None, device: torch.device) -> torch.dtype:
    if name in (None, "auto"):
        return default_dtype(device)
    table = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if name not in table:
        raise ValueError(f"unknown dtype {name!r} (use auto, float32, float16 or bfloat16)")
    return table[name]


def configure_cpu_threads() -> int:
    """Leave one core free: intra-op threads that spin-wait are ruinous when anything else runs.

    On this project's 2-core machines, two OpenMP threads beside a busy UI thread (the studio)
    or any other process made the toy model's joint video+audio step about 30x slower than one
    thread (measured 7.3 s vs 0.25 s). CODI_STUDIO_CPU_THREADS overrides the choice.
    """
    wanted = os.environ.get("CODI_STUDIO_CPU_THREADS")
    threads = int(wanted) if wanted else max(1, min((os.cpu_count() or 2) - 1, 8))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
