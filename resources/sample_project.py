"""Build the first-run sample project: every modality on the timeline, three shots ready to generate.

The media are drawn by the toy world (codi_studio.toyworld.world), the world
the embedded model was trained on, so generating the sample's shots gives
sensible results at once. Nothing binary is checked in: the script draws the
media, writes them to a scratch folder, imports them, and lays out the cut.

    python resources/sample_project.py OUT.codi
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from codi_studio.media import write_mp4, write_png, write_wav
from codi_studio.media.values import Modality, Video
from codi_studio.store import Project
from codi_studio.studio.session import ProjectSession
from codi_studio.studio.timeline_model import CONDITION, Clip, Shot, ShotSettings, new_uid
from codi_studio.toyworld import world

SEED = 2023


def _condition_track(session: ProjectSession, kind: Modality) -> str:
    return next(t.uid for t in session.model.tracks if t.kind == kind and t.role == CONDITION)


def build_sample_project(path: str | Path) -> Path:
    """Creates the sample project at `path` (which must not exist) and returns it."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target}: already exists; the sample is only built into a new file")
    rng = np.random.default_rng(SEED)
    red_circle = world.sample(world.Scene("circle", "red", "left", "day"), rng)
    blue_square = world.sample(world.Scene("square", "blue", "up", "night"), rng)
    green_triangle = world.sample(world.Scene("triangle", "green", "right", "day"), rng)
    with tempfile.TemporaryDirectory(prefix="codi-sample-") as scratch:
        folder = Path(scratch)
        files = {
            "image": write_png(folder / "red circle.png", red_circle.image),
            "audio": write_wav(folder / "blue square rising.wav", blue_square.audio),
            "video": write_mp4(folder / "green triangle.mp4",
                               Video(green_triangle.video.frames, green_triangle.video.fps, green_triangle.audio)),
        }
        session = ProjectSession(Project.create(target))
        try:
            versions, problems = session.import_files([files["image"], files["audio"], files["video"]])
            if problems:
                raise RuntimeError("; ".join(f"{p.path}: {p.reason}" for p in problems))
            image_v, audio_v, video_v = versions
            model = session.model
            text_track = _condition_track(session, Modality.TEXT)
            clips = [
                Clip(new_uid("c"), text_track, 0.0, 2.0, text=red_circle.text.text, label="caption"),
                Clip(new_uid("c"), text_track, 3.0, 2.0, text=blue_square.text.text, label="caption", weight=0.8),
                session.clip_for_version(image_v, _condition_track(session, Modality.IMAGE), 0.0),
                session.clip_for_version(audio_v, _condition_track(session, Modality.AUDIO), 3.0),
                session.clip_for_version(video_v, _condition_track(session, Modality.VIDEO), 6.0),
            ]
            for clip in clips:
                model.add_clip(clip)
            shots = [
                Shot(new_uid("s"), 0.0, 2.0, ShotSettings(outputs=(Modality.IMAGE,), seed=1), name="Shot 1"),
                Shot(new_uid("s"), 3.0, 5.0, ShotSettings(outputs=(Modality.VIDEO, Modality.AUDIO), seed=2),
                     name="Shot 2"),
                Shot(new_uid("s"), 6.0, 7.5, ShotSettings(outputs=(Modality.TEXT, Modality.IMAGE), seed=3),
                     name="Shot 3"),
            ]
            for shot in shots:
                model.add_shot(shot)
            session.save()
        finally:
            session.close()
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python resources/sample_project.py OUT.codi", file=sys.stderr)
        sys.exit(2)
    print(build_sample_project(sys.argv[1]))
