"""Generation speed and judged accuracy on the toy world, DDIM 50 steps vs DPM-Solver++ 20 steps.

    python benchmarks/toy_bench.py [--model toy-v1] [--samples 4] [--device auto] [--json OUT]

For each output set (text, image, audio, video, joint video+audio), conditioned on
a toy-world caption, it generates `samples` seen + `samples` held-out scenes through
the GenerationService and prints seconds per sample and the judged fraction of
attributes right (seen / held-out, chance beside it), one column pair per sampler.
The first request of each sampler run is a warm-up and is not timed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from codi_studio.media.values import Modality
from codi_studio.service.generation import GenerationService
from codi_studio.toyworld import evaluation as ev
from codi_studio.toyworld import world

SAMPLERS = (("ddim", 50), ("dpmpp", 20))


def bench(service: GenerationService, samples: int, seed: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    for sampler, steps in SAMPLERS:
        generate = ev.service_generator(service, steps=steps, sampler=sampler)
        warm_up = world.render_caption(world.SCENES[0], np.random.default_rng(0))
        generate(ev.GenerationCall((warm_up,), (Modality.IMAGE,), seed=0))
        settings = ev.EvalSettings(samples=samples, seed=seed, input_sets=((Modality.TEXT,),), joint_modes=())
        report = ev.evaluate(generate, settings, lambda line: print(f"[{sampler} {steps}] {line}", file=sys.stderr))
        results[f"{sampler}-{steps}"] = [
            {
                "outputs": "+".join(m.value for m in cell.outputs),
                "seconds_per_sample": cell.seconds_per_sample,
                "seen": cell.accuracy["seen"].fraction,
                "held_out": cell.accuracy["held_out"].fraction,
                "chance": cell.chance,
                "failures": cell.failures,
                "first_error": cell.first_error,
            }
            for cell in report.cells
        ]
    return results


def table(results: dict[str, list[dict]]) -> str:
    runs = list(results)
    header = ["outputs"] + [f"{run} s/sample" for run in runs] + [f"{run} seen / held-out (chance)" for run in runs]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, row in enumerate(results[runs[0]]):
        seconds = [f"{results[run][i]['seconds_per_sample']:.2f}" for run in runs]
        accuracy = [
            f"{results[run][i]['seen']:.2f} / {results[run][i]['held_out']:.2f} ({results[run][i]['chance']:.2f})" for run in runs
        ]
        lines.append("| " + " | ".join([row["outputs"], *seconds, *accuracy]) + " |")
    for run in runs:
        for row in results[run]:
            if row["failures"]:
                lines.append(f"! {run} {row['outputs']}: {row['failures']} generations failed, first: {row['first_error']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or folder (default: the embedded toy-v1)")
    parser.add_argument("--samples", type=int, default=4, help="seen and held-out samples per output set")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    service = GenerationService(device=args.device)
    info = service.load_model(args.model)
    print(f"model {info.id} on {info.device}, {args.samples} seen + {args.samples} held-out samples per output set")
    results = bench(service, args.samples, args.seed)
    print(table(results))
    if args.json is not None:
        args.json.write_text(json.dumps({"model": info.id, "device": info.device, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
