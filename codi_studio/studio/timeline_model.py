"""The timeline as data: tracks, clips and shots, apart from any drawing.

`TimelineModel` is a QObject so that views can follow it through signals, but it
holds plain dataclasses only: no QGraphicsItems, no SQL, no tensors. Every edit
the user makes goes through an undo command (commands.py) that calls the small
mutation methods here; the store is written on save (project_session.py).
Times are seconds as floats.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

from PySide6.QtCore import QObject, Signal

from codi_studio.media.values import Modality

CONDITION = "condition"
OUTPUT = "output"
MIN_CLIP_SECONDS = 0.05



def new_uid(prefix: str) -> str:
    """A fresh id; random so that ids restored from an autosave never collide with new ones."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Track:
    uid: str
    kind: Modality
    role: str  # CONDITION or OUTPUT
    name: str
    muted: bool = False
    locked: bool = False
    store_id: int | None = None


@dataclass(frozen=True)
class Clip:
    """One placement of a medium (or a piece of text) on a track."""

    uid: str
    track: str  # Track.uid
    start: float
    duration: float
    in_point: float = 0.0  # seconds trimmed off the head of the source
    source_duration: float | None = None  # None: a still or text, stretches freely
    weight: float = 1.0
    text: str | None = None
    asset_id: int | None = None
    version_id: int | None = None
    label: str = ""
    link: str | None = None  # clips generated together share a link and move together
    shot: str | None = None  # the shot an output clip belongs to

    @property
    def end(self) -> float:
        return self.start + self.duration

    def overlaps(self, start: float, end: float) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class ShotSettings:
    outputs: tuple[Modality, ...] = (Modality.IMAGE,)
    seed: int = 0
    steps: int = 20
    guidance: float = 4.0
    sampler: str = "ddim"
    model: str | None = None  # None: the embedded default


@dataclass(frozen=True)
class Shot:
    """A time range to generate: the condition clips overlapping it are its inputs."""

    uid: str
    start: float
    end: float
    settings: ShotSettings = field(default_factory=ShotSettings)
    name: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start


def default_tracks() -> list[Track]:
    tracks = [Track(new_uid("t"), m, CONDITION, f"{m.value.title()} in") for m in Modality]
    tracks += [
        Track(new_uid("t"), m, OUTPUT, f"{m.value.title()} out")
        for m in (Modality.IMAGE, Modality.VIDEO, Modality.AUDIO, Modality.TEXT)
    ]
    return tracks


class TimelineModel(QObject):
    """The editable timeline. Mutations emit exactly one signal each."""

    tracksChanged = Signal()
    clipAdded = Signal(str)
    clipChanged = Signal(str)
    clipRemoved = Signal(str)
    shotAdded = Signal(str)
    shotChanged = Signal(str)
    shotRemoved = Signal(str)
    modified = Signal()

    def __init__(self, tracks: Iterable[Track] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tracks: list[Track] = list(tracks) if tracks is not None else default_tracks()
        self._clips: dict[str, Clip] = {}
        self._shots: dict[str, Shot] = {}

    # ---- reading -------------------------------------------------------------------------
    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def track(self, uid: str) -> Track:
        for t in self._tracks:
            if t.uid == uid:
                return t
        raise KeyError(f"no track {uid!r}")

    def track_index(self, uid: str) -> int:
        return next(i for i, t in enumerate(self._tracks) if t.uid == uid)

    def output_track(self, kind: Modality) -> Track:
        for t in self._tracks:
            if t.role == OUTPUT and t.kind == kind:
                return t
        raise KeyError(f"no output track for {kind.value}")

    def clip(self, uid: str) -> Clip:
        return self._clips[uid]

    def has_clip(self, uid: str) -> bool:
        return uid in self._clips

    @property
    def clips(self) -> list[Clip]:
        return list(self._clips.values())

    def clips_on(self, track_uid: str) -> list[Clip]:
        return sorted((c for c in self._clips.values() if c.track == track_uid), key=lambda c: c.start)

    def linked(self, clip_uid: str) -> list[Clip]:
        """The clip and every clip generated together with it."""
        clip = self._clips[clip_uid]
        if clip.link is None:
            return [clip]
        return [c for c in self._clips.values() if c.link == clip.link]

    def shot(self, uid: str) -> Shot:
        return self._shots[uid]

    def has_shot(self, uid: str) -> bool:
        return uid in self._shots

    @property
    def shots(self) -> list[Shot]:
        return sorted(self._shots.values(), key=lambda s: s.start)

    def shot_at(self, time: float) -> Shot | None:
        for s in self.shots:
            if s.start <= time < s.end:
                return s
        return None

    def conditions_for(self, shot: Shot) -> list[Clip]:
        """Unmuted condition clips overlapping the shot, in track order."""
        out: list[Clip] = []
        for t in self._tracks:
            if t.role != CONDITION or t.muted:
                continue
            out += [c for c in self.clips_on(t.uid) if c.overlaps(shot.start, shot.end)]
        return out

    def output_clips(self, shot_uid: str) -> list[Clip]:
        return [c for c in self._clips.values() if c.shot == shot_uid]

    @property
    def duration(self) -> float:
        ends = [c.end for c in self._clips.values()] + [s.end for s in self._shots.values()]
        return max(ends, default=0.0)

    def edges(self, exclude: Iterable[str] = ()) -> list[float]:
        """Clip and shot edges, for snapping."""
        skip = set(exclude)
        out = [0.0]
        for c in self._clips.values():
            if c.uid not in skip:
                out += [c.start, c.end]
        for s in self._shots.values():
            out += [s.start, s.end]
        return out

    # ---- mutations (called by undo commands and by loading) -----------------------------
    def set_tracks(self, tracks: Iterable[Track]) -> None:
        self._tracks = list(tracks)
        self.tracksChanged.emit()
        self.modified.emit()

    def replace_track(self, track: Track) -> None:
        self._tracks[self.track_index(track.uid)] = track
        self.tracksChanged.emit()
        self.modified.emit()

    def add_clip(self, clip: Clip) -> None:
        if clip.uid in self._clips:
            raise ValueError(f"clip {clip.uid} already on the timeline")
        self.track(clip.track)  # raises for an unknown track
        self._clips[clip.uid] = clip
        self.clipAdded.emit(clip.uid)
        self.modified.emit()

    def update_clip(self, clip: Clip) -> None:
        if clip.uid not in self._clips:
            raise KeyError(f"no clip {clip.uid!r}")
        self._clips[clip.uid] = clip
        self.clipChanged.emit(clip.uid)
        self.modified.emit()

    def remove_clip(self, uid: str) -> Clip:
        clip = self._clips.pop(uid)
        self.clipRemoved.emit(uid)
        self.modified.emit()
        return clip

    def add_shot(self, shot: Shot) -> None:
        if shot.end - shot.start < MIN_CLIP_SECONDS:
            raise ValueError("a shot must be longer than 0.05 s")
        self._shots[shot.uid] = shot
        self.shotAdded.emit(shot.uid)
        self.modified.emit()

    def update_shot(self, shot: Shot) -> None:
        self._shots[shot.uid] = shot
        self.shotChanged.emit(shot.uid)
        self.modified.emit()

    def remove_shot(self, uid: str) -> Shot:
        shot = self._shots.pop(uid)
        self.shotRemoved.emit(uid)
        self.modified.emit()
        return shot

    def clear(self) -> None:
        for uid in list(self._clips):
            self.remove_clip(uid)
        for uid in list(self._shots):
            self.remove_shot(uid)

    def __iter__(self) -> Iterator[Clip]:
        return iter(self.clips)


def trimmed(clip: Clip, edge: str, time: float) -> Clip:
    """The clip with its left or right edge moved to `time`, kept inside its source."""
    if edge == "left":
        latest = clip.end - MIN_CLIP_SECONDS
        earliest = clip.start - clip.in_point if clip.source_duration is not None else float("-inf")
        new_start = max(0.0, earliest, min(time, latest))
        shift = new_start - clip.start
        return replace(clip, start=new_start, duration=clip.duration - shift, in_point=clip.in_point + shift)
    if edge == "right":
        latest = float("inf")
        if clip.source_duration is not None:
            latest = clip.start + clip.source_duration - clip.in_point
        new_end = max(clip.start + MIN_CLIP_SECONDS, min(time, latest))
        return replace(clip, duration=new_end - clip.start)
    raise ValueError(f"unknown edge {edge!r}")


def split(clip: Clip, time: float) -> tuple[Clip, Clip]:
    """Two clips cut at `time`, the second continuing where the first stops in the source."""
    if not (clip.start + MIN_CLIP_SECONDS <= time <= clip.end - MIN_CLIP_SECONDS):
        raise ValueError("the cut must fall inside the clip")
    head = replace(clip, duration=time - clip.start)
    tail = replace(
        clip,
        uid=new_uid("c"),
        start=time,
        duration=clip.end - time,
        in_point=clip.in_point + (time - clip.start),
        link=None,  # a cut piece no longer moves with its generated partner
    )
    return head, tail
