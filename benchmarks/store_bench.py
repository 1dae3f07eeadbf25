"""Project store at scale: 100,000 versions; open time and the studio's hot queries.

    OMP_NUM_THREADS=1 python benchmarks/store_bench.py [--versions 100000] [--repeat 20]

Builds the project in bulk through the same tables the store uses (one
transaction per batch: making 100k generations through the model is not the
point), then times `Project.open` and, on the opened project: the timeline with
each clip's current version (1,000 clips), the version history of one clip,
and prompt search (a common and a rare word). Prints the median and worst of
`--repeat` runs. Targets: open < 1 s, each query < 50 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import insert, text

from codi_studio.store import Project
from codi_studio.store.schema import (
    AssetRow,
    BlobChunkRow,
    BlobRow,
    ClipRow,
    GenerationInputRow,
    GenerationRow,
    TrackRow,
    VersionRow,
)

WORDS = ("red blue green small large castle forest river dog cat bird ship city night morning storm quiet loud "
         "ball tree mountain lake garden window door street car train bridge tower cloud").split()
RARE_WORD = "zeppelin"  # in one prompt of every 5,000


def build(path: Path, n_versions: int, n_tracks: int = 10, clips_per_track: int = 100) -> int:
    """A project with n_versions versions spread over tracks x clips assets; returns a clip id to inspect."""
    rng = random.Random(0)
    n_assets = n_tracks * clips_per_track
    now = datetime(2026, 1, 1)
    with Project.create(path, name="bench") as project:
        with project._write() as s:  # bulk fill: the benchmark measures reads, not 100k fsyncs
            s.execute(insert(TrackRow), [{"id": t + 1, "kind": "image", "role": "output", "position": t, "name": f"T{t}",
                                          "muted": False, "locked": False} for t in range(n_tracks)])
            s.execute(insert(AssetRow), [{"id": a + 1, "modality": "image", "name": f"shot {a}", "origin": "generation",
                                          "created_at": now} for a in range(n_assets)])
        batch = 10_000
        for start in range(0, n_versions, batch):
            ids = range(start + 1, min(start + batch, n_versions) + 1)
            blobs, chunks, gens, inputs, versions, fts = [], [], [], [], [], []
            for vid in ids:
                data = f"medium {vid}".encode()
                digest = hashlib.sha256(data).hexdigest()
                words = rng.sample(WORDS, 5) + ([RARE_WORD] if vid % 5000 == 0 else [])
                prompt = " ".join(words)
                blobs.append({"hash": digest, "size": len(data), "chunk_size": 1 << 20, "created_at": now})
                chunks.append({"blob_hash": digest, "idx": 0, "data": data})
                gens.append({"id": vid, "model_id": "toy-v1", "model_hash": "sha256:0", "sampler": "ddim", "steps": 50,
                             "guidance": 7.5, "seed": vid, "outputs": '["image"]', "n_samples": 1, "joint_mode": None,
                             "prompt": prompt, "extra": "{}", "created_at": now})
                inputs.append({"generation_id": vid, "position": 0, "modality": "text", "weight": 1.0, "text": prompt,
                               "version_id": None})
                asset = (vid - 1) % n_assets + 1
                versions.append({"id": vid, "asset_id": asset, "number": (vid - 1) // n_assets + 1, "modality": "image",
                                 "blob_hash": digest, "format": "png", "width": 64, "height": 64,
                                 "generation_id": vid, "sample_index": 0, "created_at": now})
                fts.append({"id": vid, "prompt": prompt})
            with project._write() as s:
                s.execute(insert(BlobRow), blobs)
                s.execute(insert(BlobChunkRow), chunks)
                s.execute(insert(GenerationRow), gens)
                s.execute(text("INSERT INTO generations_fts (rowid, prompt) VALUES (:id, :prompt)"), fts)
                s.execute(insert(GenerationInputRow), inputs)
                s.execute(insert(VersionRow), versions)
        with project._write() as s:
            s.execute(insert(ClipRow), [
                {"id": a + 1, "track_id": a // clips_per_track + 1, "asset_id": a + 1,
                 "current_version_id": a + 1 if a % 3 == 0 else None,  # a third picked explicitly, the rest follow latest
                 "start": float(a % clips_per_track) * 2.0, "duration": 2.0, "in_point": 0.0, "weight": 1.0,
                 "created_at": now}
                for a in range(n_assets)
            ])
        project._write_engine.dispose()
        with project._write() as s:
            s.execute(text("ANALYZE"))
        return clips_per_track // 2 + 1


def timed(label: str, action: Callable[[], object], repeat: int, target_ms: float) -> float:
    """Median wall time in ms; CPU time is printed too, since on a shared machine wall time includes waiting."""
    times, cpu = [], []
    result = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = action()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    size = len(result) if isinstance(result, list) else 1
    worst, median = max(times), statistics.median(times)
    verdict = "ok" if median < target_ms else "SLOW"
    print(f"{label:<44} median {median:8.2f} ms (cpu {statistics.median(cpu):6.2f})   worst {worst:8.2f} ms   "
          f"{size:>4} rows   target < {target_ms:g} ms {verdict}")
    return median


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the project here and keep it (reused if it exists)")
    args = parser.parse_args(argv)
    print(f"load average {load_average()}")
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "bench.codi"
        t0 = time.perf_counter()
        if path.exists():
            clip_id = 51
            print(f"reusing {path}")
        else:
            clip_id = build(path, args.versions)
            print(f"built {args.versions:,} versions in {time.perf_counter() - t0:.1f} s "
                  f"({path.stat().st_size / 2**20:.1f} MiB)")
        opens = []
        for _ in range(5):
            t0 = time.perf_counter()
            project = Project.open(path)
            opens.append(time.perf_counter() - t0)
            project.close()
        print(f"{'open (Project.open, writable)':<44} median {statistics.median(opens) * 1000:8.2f} ms   "
              f"worst {max(opens) * 1000:8.2f} ms   target < 1000 ms {'ok' if max(opens) < 1 else 'SLOW'}")
        with Project.open(path) as project:
            info = project.info()
            assert info.versions == args.versions, info
            timeline = project.timeline()
            assert sum(len(t.clips) for t in timeline) == 1000 and all(c.version_id for t in timeline for c in t.clips)
            results = {
                "timeline": timed("timeline: 1,000 clips with current versions", project.timeline, args.repeat, 50),
                "history": timed(f"history of one clip ({len(project.versions(clip_id=clip_id))} versions)",
                                 lambda: project.versions(clip_id=clip_id), args.repeat, 50),
                "search_common": timed("search by prompt, common word (100 newest)",
                                       lambda: project.search_versions("castle"), args.repeat, 50),
                "search_rare": timed(f"search by prompt, rare word", lambda: project.search_versions(RARE_WORD),
                                     args.repeat, 50),
                "search_seed": timed("search by seed", lambda: project.search_versions(seed=4242), args.repeat, 50),
            }
            results["info"] = timed("project info (counts)", project.info, 3, 1000)
        print(json.dumps({k: round(v, 2) for k, v in results.items()} | {"open_ms": round(max(opens) * 1000, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
