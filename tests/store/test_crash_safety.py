"""Kill a writer with SIGKILL at random moments; the file must always reopen whole.

A forked child opens the project and loops over real operations (importing
multi-chunk media, recording generations, placing and moving clips,
exporting bundles), reporting each one on a pipe only after it returned. The
parent kills it after a random delay, then checks PRAGMA integrity_check and
that every reported operation is in the file (an operation killed after its
commit but before its report may be there too: moves announce their target). Fork (not a fresh interpreter)
keeps a round at a few hundred milliseconds.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image as PILImage

from codi_studio.media import Audio
from codi_studio.store import Project

from store_helpers import image_value, recipe


def _worker(path: str, scratch: str, report_fd: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    project = Project.open(path)
    track = project.add_track("image")
    folder = Path(scratch)
    clips: list[int] = []
    for step in range(seed, seed + 10_000):  # each round starts with a different operation
        kind = step % 5
        if kind == 0:  # a picture and a ~1.1 MB sound: the sound spans two chunks
            picture = folder / f"p{seed}-{step}.png"
            PILImage.fromarray(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)).save(picture)
            sound = folder / f"s{seed}-{step}.wav"
            soundfile.write(sound, rng.standard_normal(280_000).astype(np.float32) * 0.1, 16000, subtype="FLOAT")
            for file in (picture, sound):
                version = project.import_media(file)
                line = {"op": "version", "id": version.id, "hash": version.content_hash}
                os.write(report_fd, (json.dumps(line) + "\n").encode())
        elif kind == 1:
            sound = Audio(rng.standard_normal((8000, 1)).astype(np.float32) * 0.1, 16000)
            record = project.record_generation(recipe(seed=int(step), outputs=("image", "audio")),
                                               {"image": image_value(seed * 100_000 + step), "audio": sound})
            line = {"op": "generation", "id": record.id, "versions": [v.id for v in record.versions]}
            os.write(report_fd, (json.dumps(line) + "\n").encode())
        elif kind == 2:
            pictures = project.assets(modality="image")
            if not pictures:
                continue
            clip = project.place_clip(track.id, float(step), 1.0, asset_id=pictures[-1].id)
            clips.append(clip.id)
            os.write(report_fd, (json.dumps({"op": "clip", "id": clip.id, "start": clip.start}) + "\n").encode())
        elif kind == 3 and clips:
            # announced first: a kill after the commit but before the report leaves the new start in the file
            os.write(report_fd, (json.dumps({"op": "moving", "id": clips[-1], "start": float(step) + 0.5}) + "\n").encode())
            moved = project.move_clip(clips[-1], start=float(step) + 0.5)
            os.write(report_fd, (json.dumps({"op": "clip", "id": moved.id, "start": moved.start}) + "\n").encode())
        elif kind == 4:
            bundle = project.export_bundle(folder / f"b{seed}-{step}.zip")
            os.write(report_fd, (json.dumps({"op": "bundle", "path": str(bundle)}) + "\n").encode())
    os._exit(0)


def _read_reports(fd: int) -> list[dict]:
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def _check_round(path: Path, reports: list[dict], clip_starts: dict[int, set[float]]) -> None:
    """Integrity ok; every reported operation present. `clip_starts`: the starts each clip may have."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    with Project.open(path) as project:  # a killed writer never leaves the project locked
        for report in reports:
            if report["op"] == "version":
                assert project.version(report["id"]).content_hash == report["hash"]
            elif report["op"] == "generation":
                assert [v.id for v in project.generation(report["id"]).versions] == report["versions"]
            elif report["op"] == "clip":
                clip_starts[report["id"]] = {report["start"]}
            elif report["op"] == "moving":  # not yet returned: either start is right
                clip_starts.setdefault(report["id"], set()).add(report["start"])
            elif report["op"] == "bundle":
                with zipfile.ZipFile(report["path"]) as archive:
                    assert archive.testzip() is None and "manifest.json" in archive.namelist()
        for clip_id, allowed in clip_starts.items():
            start = project.clip(clip_id).start
            assert start in allowed, (clip_id, start, allowed)
            clip_starts[clip_id] = {start}  # what the file holds is the truth from here on


def run_kill_rounds(tmp_path: Path, rounds: int) -> Counter[str]:
    """Returns how many operations of each kind the children completed (and the file kept)."""
    path = tmp_path / "crash.codi"
    Project.create(path).close()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    context = multiprocessing.get_context("fork")
    rng = random.Random(1234)
    clip_starts: dict[int, set[float]] = {}
    completed: Counter[str] = Counter()
    for round_index in range(rounds):
        read_fd, write_fd = os.pipe()
        child = context.Process(target=_worker, args=(str(path), str(scratch), write_fd, round_index))
        child.start()
        os.close(write_fd)
        time.sleep(rng.uniform(0.05, 1.2))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert child.exitcode == -signal.SIGKILL, "the child ended before it was killed"
        reports = _read_reports(read_fd)
        os.close(read_fd)
        _check_round(path, reports, clip_starts)
        completed.update(report["op"] for report in reports if report["op"] != "moving")
    return completed


needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@needs_fork
def test_sigkill_ten_rounds(tmp_path: Path) -> None:
    completed = run_kill_rounds(tmp_path, rounds=10)
    assert sum(completed.values()) >= 5  # operations really completed between kills


@needs_fork
@pytest.mark.slow
def test_sigkill_fifty_rounds(tmp_path: Path) -> None:
    completed = run_kill_rounds(tmp_path, rounds=50)
    assert set(completed) == {"version", "generation", "clip", "bundle"}, completed
