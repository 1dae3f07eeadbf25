"""The timeline as JSON, for autosave and crash recovery.

Media never goes in here (imports and generations are in the project file the
moment they happen); only the edit state that a crash could lose: clips,
shots and track flags, pointing at store ids. The autosave file sits beside
the project (`NAME.codi.autosave.json`), is written atomically, and is deleted
by a clean save or close, so finding one on open means the last session died.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from codi_studio.media.values import Modality
from codi_studio.studio.timeline_model import Clip, Shot, ShotSettings, TimelineModel, Track

FORMAT = "codi-studio-autosave"
VERSION = 1


class SnapshotError(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path


def autosave_path(project_path: str | Path) -> Path:
    p = Path(project_path)
    return p.with_name(p.name + ".autosave.json")


def to_json(model: TimelineModel) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "saved_at": time.time(),
        "tracks": [dict(asdict(t), kind=t.kind.value) for t in model.tracks],
        "clips": [asdict(c) for c in model.clips],
        "shots": [
            dict(asdict(s), settings=dict(asdict(s.settings), outputs=[m.value for m in s.settings.outputs]))
            for s in model.shots
        ],
    }


def load_into(model: TimelineModel, data: dict[str, Any], source: Path) -> None:
    """Replaces the model's content by the snapshot (tracks matched by uid)."""
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise SnapshotError(source, "not a CoDi Studio autosave (or from another version)")
    try:
        tracks = [Track(**{**t, "kind": Modality.parse(t["kind"])}) for t in data["tracks"]]
        clips = [Clip(**c) for c in data["clips"]]
        shots = []
        for s in data["shots"]:
            settings = dict(s["settings"])
            settings["outputs"] = tuple(Modality.parse(m) for m in settings["outputs"])
            shots.append(Shot(**{**s, "settings": ShotSettings(**settings)}))
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(source, f"damaged autosave: {exc}") from exc
    model.clear()
    model.set_tracks(tracks)
    for clip in clips:
        model.add_clip(clip)
    for shot in shots:
        model.add_shot(shot)


def write_autosave(path: Path, model: TimelineModel) -> None:
    data = json.dumps(to_json(model))
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_autosave(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(path, f"unreadable autosave: {exc}") from exc
