"""Seconds per sampling step: this pipeline's guided step against a plain two-call loop, with FLOPs.

    OMP_NUM_THREADS=1 python benchmarks/sampling_bench.py [--sizes tiny,full] [--full-outputs image,audio]
        [--image-size 256] [--steps 2] [--rounds 2] [--json OUT]

For each output set, on random weights, CPU, float32, DDIM with guidance 7.5 and a 2-input
composition (77-token text + 1-token audio context), it times
  (a) the pipeline's step: pipeline.guided_denoiser (one UNet call on the [uncond, cond] batch,
      attention through F.scaled_dot_product_attention with its default CPU kernel) + the scheduler;
  (b) a plain loop: the UNet called twice per step (cond, then uncond, batch n each), attention
      forced onto the math backend (softmax(QK^T)V materialised), + the same scheduler;
alternating (a) and (b) run by run after one warm-up step each, and prints the median seconds per
step, the ratio (b)/(a), the step's FLOPs (torch.utils.flop_counter on a weightless meta-device copy,
attention counted through the math backend because the counter has no formula for the CPU flash
kernel; (a) and (b) do the same FLOPs) and the fraction of this machine's measured float32 matmul
peak (best of 3 timed 3072^3 matmuls, same thread count, measured before the cases; re-measured
after them to show how much the shared machine's load drifted) that each reaches.

Sizes: "tiny" = presets.tiny_config() (its geometry); "full" = presets.official_config() sub-UNets,
one output at a time, each built alone (random init) only when /proc/meminfo says it fits:
image at --image-size (default 256 px: latent 4x32x32) by default; audio (10 s: latent 8x256x16,
~2 min more on a loaded 2-core machine), text (2.0 B params, 8.2 GB float32) and video (8 frames)
on request with --full-outputs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from codi_studio.codi import components
from codi_studio.codi.config import ModelConfig
from codi_studio.codi.modality_io import ModalityIO
from codi_studio.codi.model import CodiModel
from codi_studio.codi.pipeline import guidance_context, guided_denoiser, noise_schedule
from codi_studio.codi.presets import official_config, tiny_config
from codi_studio.codi.samplers import Denoiser, sample
from codi_studio.media.values import Modality

GUIDANCE = 7.5
MIX_WEIGHTS = (1.0, 1.0)  # text, audio
AUDIO_TOKENS = 1  # CLAP gives one token
UNET_KEY = {"image": "image", "video": "image", "text": "text", "audio": "audio"}


@dataclass(frozen=True)
class Case:
    size: str
    outputs: tuple[str, ...]
    config: ModelConfig


@dataclass
class Result:
    size: str
    outputs: str
    params_m: float
    latent_shapes: dict[str, list[int]]
    pipeline_s: float
    plain_s: float
    ratio: float
    gflops_per_step: float
    pipeline_peak_fraction: float
    plain_peak_fraction: float


def matmul_peak_flops(n: int = 3072, repeats: int = 3) -> float:
    """This machine's float32 matmul rate (FLOP/s) at the current thread count: best of `repeats`."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def unet_config(config: ModelConfig, outputs: tuple[str, ...]) -> dict[str, Any]:
    """The model's UNet config with only the sub-UNets these outputs need."""
    spec = dict(config.components["unet"].config)
    needed = {UNET_KEY[m] for m in outputs}
    for part in ("image", "text", "audio"):
        if part not in needed:
            spec[part] = None
    return spec


def count_params(spec: dict[str, Any]) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in components.build("codi_unet", spec).parameters())


def plain_denoiser(unet: torch.nn.Module, cond: torch.Tensor, uncond: torch.Tensor, guidance: float,
                   joint_mode: str) -> Denoiser:
    """The straightforward loop: two UNet calls per step, math attention."""

    def denoise(latents: dict[str, torch.Tensor], t: torch.Tensor) -> dict[str, torch.Tensor]:
        timesteps = torch.full((cond.shape[0],), int(t), dtype=torch.long, device=cond.device)
        with sdpa_kernel(SDPBackend.MATH):
            c = unet(latents, timesteps, cond, joint_mode=joint_mode)
            u = unet(latents, timesteps, uncond, joint_mode=joint_mode)
        return {m: u[m] + guidance * (c[m] - u[m]) for m in latents}

    return denoise


def step_seconds(denoise: Denoiser, noise: dict[str, torch.Tensor], steps: int, schedule: dict[str, object]) -> list[float]:
    """Per-step wall times of one `sample` run (its scheduler included)."""
    stamps = [time.perf_counter()]
    sample(denoise, {m: x.clone() for m, x in noise.items()}, sampler="ddim", steps=steps, schedule=schedule,
           on_step=lambda i, n, predicted: stamps.append(time.perf_counter()))
    return [b - a for a, b in zip(stamps, stamps[1:])]


def step_flops(denoise: Denoiser, noise: dict[str, torch.Tensor]) -> int:
    """FLOPs of one step's UNet work (matmuls, convolutions, attention as bmm), counted on shapes only."""
    counter = FlopCounterMode(display=False)
    with counter, sdpa_kernel(SDPBackend.MATH):
        denoise(noise, torch.tensor(501))
    return counter.get_total_flops()


def make_variants(unet: torch.nn.Module, context: torch.Tensor, joint_mode: str) -> dict[str, Denoiser]:
    uncond, cond = context.chunk(2)
    return {"pipeline": guided_denoiser(unet, context, GUIDANCE, joint_mode),
            "plain": plain_denoiser(unet, cond, uncond, GUIDANCE, joint_mode)}


@torch.inference_mode()
def run_case(case: Case, n: int, steps: int, rounds: int, peak: float) -> Result:
    spec = unet_config(case.config, case.outputs)
    io = ModalityIO(CodiModel(Path(tempfile.gettempdir()), case.config, torch.device("cpu"), torch.float32))
    noise = {m: torch.randn(io.latent_shape(Modality(m), n)) for m in case.outputs}
    context_dim = int(spec[UNET_KEY[case.outputs[0]]]["context_dim"])
    tokens = case.config.geometry.text_max_length
    g = torch.Generator().manual_seed(1)
    text_c, text_u = (torch.randn(n, tokens, context_dim, generator=g) for _ in range(2))
    audio_c, audio_u = (torch.randn(n, AUDIO_TOKENS, context_dim, generator=g) for _ in range(2))
    context = guidance_context([text_c, audio_c], [text_u, audio_u], MIX_WEIGHTS)
    mode = case.config.joint_mode

    # FLOPs first, on a weightless copy (meta tensors: shapes only, no compute)
    with torch.device("meta"):
        meta_unet = components.build("codi_unet", spec).eval()
    flops = {name: step_flops(denoise, {m: x.to("meta") for m, x in noise.items()})
             for name, denoise in make_variants(meta_unet, context.to("meta"), mode).items()}
    del meta_unet

    torch.manual_seed(0)
    unet = components.build("codi_unet", spec).eval()
    params = sum(p.numel() for p in unet.parameters())
    variants = make_variants(unet, context, mode)
    schedule = noise_schedule(case.config)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for name, denoise in variants.items():
        step_seconds(denoise, noise, 1, schedule)  # warm-up: first-call allocations, kernel selection
    for _ in range(rounds):
        for name, denoise in variants.items():  # alternate, so shared-machine load hits both alike
            times[name] += step_seconds(denoise, noise, steps, schedule)
    pipeline_s, plain_s = statistics.median(times["pipeline"]), statistics.median(times["plain"])
    del unet, variants
    return Result(case.size, "+".join(case.outputs), params / 1e6,
                  {m: list(x.shape) for m, x in noise.items()}, pipeline_s, plain_s, plain_s / pipeline_s,
                  flops["pipeline"] / 1e9, flops["pipeline"] / (pipeline_s * peak),
                  flops["plain"] / (plain_s * peak))


def cases(sizes: list[str], full_outputs: list[str], image_size: int) -> list[Case]:
    found: list[Case] = []
    if "tiny" in sizes:
        tiny = tiny_config()
        for outputs in (("image",), ("text",), ("audio",), ("video", "audio")):
            found.append(Case("tiny", outputs, tiny))
    if "full" in sizes:
        full = official_config()
        full = replace(full, geometry=replace(full.geometry, image_size=image_size))
        for output in full_outputs:
            found.append(Case("full", (output,), full))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="tiny,full", help="comma list of tiny, full")
    parser.add_argument("--full-outputs", default="image",
                        help="full-size outputs, one sub-UNet each: image, audio, text, video")
    parser.add_argument("--image-size", type=int, default=256, help="full-size image/video side in pixels")
    parser.add_argument("--samples", type=int, default=1, help="samples per batch (n; the guided batch is 2n)")
    parser.add_argument("--steps", type=int, default=0, help="timed steps per run (default 2)")
    parser.add_argument("--rounds", type=int, default=0, help="runs of each variant (default: tiny 2, full 1)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    unknown = set(args.full_outputs.split(",")) - set(UNET_KEY)
    if unknown:
        parser.error(f"unknown --full-outputs {sorted(unknown)} (use {', '.join(UNET_KEY)})")

    peak = matmul_peak_flops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU {torch.backends.cpu.get_cpu_capability()}; "
          f"float32 matmul peak {peak / 1e9:.1f} GFLOP/s; guidance {GUIDANCE}, batch n={args.samples} (guided 2n)")
    print(f"{'size':5} {'outputs':12} {'params':>8} {'latents':24} {'(a) s/step':>10} {'(b) s/step':>10} "
          f"{'b/a':>5} {'GFLOP/step':>10} {'(a) peak':>8} {'(b) peak':>8}")
    results: list[Result] = []
    for case in cases(args.sizes.split(","), args.full_outputs.split(","), args.image_size):
        spec = unet_config(case.config, case.outputs)
        params = count_params(spec)
        need, have = params * 4 * 1.3 + 2**30, available_bytes()
        if need > have:
            print(f"{case.size:5} {'+'.join(case.outputs):12} {params / 1e6:7.0f}M skipped: needs ~{need / 2**30:.1f} GiB, "
                  f"{have / 2**30:.1f} GiB available")
            continue
        steps = args.steps or 2
        rounds = args.rounds or (2 if case.size == "tiny" else 1)
        r = run_case(case, args.samples, steps, rounds, peak)
        results.append(r)
        latents = " ".join("x".join(map(str, s[1:])) for s in r.latent_shapes.values())
        print(f"{r.size:5} {r.outputs:12} {r.params_m:7.1f}M {latents:24} {r.pipeline_s:10.4f} {r.plain_s:10.4f} "
              f"{r.ratio:5.2f} {r.gflops_per_step:10.2f} {r.pipeline_peak_fraction:8.1%} {r.plain_peak_fraction:8.1%}",
              flush=True)
    peak_after = matmul_peak_flops()
    print(f"float32 matmul peak re-measured after the cases: {peak_after / 1e9:.1f} GFLOP/s")
    if args.json:
        args.json.write_text(json.dumps({"peak_gflops": peak / 1e9, "peak_gflops_after": peak_after / 1e9, "threads": torch.get_num_threads(),
                                         "results": [vars(r) for r in results]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
