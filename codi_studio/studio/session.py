"""One open project in the studio: the store `Project` joined to the in-memory timeline.

Media go into the project file the moment they arrive (imports, generated
versions); timeline edits live in the TimelineModel and its undo stack until
`save()` writes the difference to the store. Shots have no table of their own
in the store, so they are kept as text clips (their settings as JSON) on a
reserved output text track named SHOTS_TRACK, which the studio hides.

This module calls the store's service API only (no SQL) and never imports torch.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap

from codi_studio.media.values import MediaError, MediaValue, Modality, Text
from codi_studio.service.project_recording import recipe_for
from codi_studio.service.requests import Condition, GenerationRequest, GenerationResult
from codi_studio.service.timeline_export import PlacedClip
from codi_studio.store import Project, StoreError
from codi_studio.store.records import (
    AssetRecord,
    GenerationRecord,
    RecipeInput,
    TrackRecord,
    VersionRecord,
)
from codi_studio.studio import theme
from codi_studio.studio.media_bin import BinEntry
from codi_studio.studio.timeline_model import (
    CONDITION,
    OUTPUT,
    Clip,
    Shot,
    ShotSettings,
    TimelineModel,
    Track,
    default_tracks,
)

SHOTS_TRACK = "codi-studio:shots"
STILL_SECONDS = 2.0
MEDIA_CACHE_SIZE = 48


@dataclass(frozen=True)
class Recorded:
    """A generation written to the project, with the generated values by version id."""

    record: GenerationRecord
    values: dict[int, MediaValue]
    thumbnails: dict[int, bytes | None] = field(default_factory=dict)  # PNG bytes by version id
    peaks: dict[int, np.ndarray | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportProblem:
    path: str
    reason: str


class ProjectSession(QObject):
    binChanged = Signal()
    saved = Signal()

    def __init__(self, project: Project, model: TimelineModel | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.model = model or TimelineModel(tracks=[])
        self._media: OrderedDict[int, MediaValue] = OrderedDict()
        self._versions: dict[int, VersionRecord] = {}
        self._assets: dict[int, AssetRecord] = {}
        self._pixmaps: dict[int, QPixmap | None] = {}
        self._peaks: dict[int, np.ndarray | None] = {}
        self._store_ids: dict[str, int] = {}  # clip or shot uid -> store clip id
        self._saved: dict[str, Clip] = {}
        self._saved_shots: dict[str, Shot] = {}
        self._saved_tracks: dict[str, Track] = {}
        self._shots_track_id: int | None = None
        self._placed: list[PlacedClip] | None = None
        self.model.modified.connect(self._invalidate_placed)
        self.load()

    # ---- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, model: TimelineModel | None = None) -> "ProjectSession":
        return cls(Project.open(path), model)

    @classmethod
    def create(cls, path: str | Path, model: TimelineModel | None = None) -> "ProjectSession":
        return cls(Project.create(path), model)

    @property
    def path(self) -> Path:
        return Path(self.project.path)

    @property
    def name(self) -> str:
        return self.path.stem

    def close(self) -> None:
        if not self.project.closed:
            self.project.close()

    def load(self) -> None:
        """Fills the model from the store (creating the default tracks in a new project)."""
        timeline = self.project.timeline()
        if not [t for t in timeline if t.name != SHOTS_TRACK]:
            for t in default_tracks():
                self.project.add_track(t.kind.value, t.role, t.name)
            timeline = self.project.timeline()
        if not any(t.name == SHOTS_TRACK for t in timeline):
            self.project.add_track("text", "output", SHOTS_TRACK)
            timeline = self.project.timeline()
        self._refresh_assets()
        tracks: list[Track] = []
        clips: list[Clip] = []
        shots: list[Shot] = []
        self._store_ids.clear()
        for record in timeline:
            if record.name == SHOTS_TRACK:
                self._shots_track_id = record.id
                for c in record.clips:
                    shot = _shot_from_text(f"dbs{c.id}", c.start, c.end, c.text or "")
                    shots.append(shot)
                    self._store_ids[shot.uid] = c.id
                continue
            track = _track_of(record)
            tracks.append(track)
            for c in record.clips:
                clip = self._clip_of(c, track)
                clips.append(clip)
                self._store_ids[clip.uid] = c.id
        clips = _link_and_assign(clips, tracks, shots, self._versions_of)
        self.model.clear()
        self.model.set_tracks(tracks)
        for clip in clips:
            self.model.add_clip(clip)
        for shot in shots:
            self.model.add_shot(shot)
        self._remember_saved()

    def _clip_of(self, c, track: Track) -> Clip:  # noqa: ANN001 - ClipRecord
        source: float | None = None
        label = ""
        if c.version_id is not None:
            version = self.version(c.version_id)
            if track.kind in (Modality.AUDIO, Modality.VIDEO):
                source = version.facts.duration
            asset = self._assets.get(version.asset_id)
            label = _label(asset, version)
        return Clip(uid=f"db{c.id}", track=track.uid, start=c.start, duration=c.duration, in_point=c.in_point,
                    source_duration=source, weight=c.weight, text=c.text, asset_id=c.asset_id,
                    version_id=c.version_id, label=label)

    def _versions_of(self, version_id: int) -> VersionRecord:
        return self.version(version_id)

    def _remember_saved(self) -> None:
        self._saved = {c.uid: c for c in self.model.clips}
        self._saved_shots = {s.uid: s for s in self.model.shots}
        self._saved_tracks = {t.uid: t for t in self.model.tracks}

    # ---- saving ----------------------------------------------------------------------------
    def has_unsaved_changes(self) -> bool:
        return (self._saved != {c.uid: c for c in self.model.clips}
                or self._saved_shots != {s.uid: s for s in self.model.shots}
                or self._saved_tracks != {t.uid: t for t in self.model.tracks})

    def save(self) -> None:
        """Writes every timeline difference since the last save to the project file."""
        p = self.project
        # tracks first, but a track being locked is locked only after its clips are written
        changed = [(t, self._saved_tracks[t.uid]) for t in self.model.tracks
                   if t.store_id is not None and t.uid in self._saved_tracks and self._saved_tracks[t.uid] != t]
        for track, old in changed:
            p.update_track(track.store_id, name=track.name, muted=track.muted, locked=track.locked and old.locked)
        current = {c.uid: c for c in self.model.clips}
        for uid in set(self._saved) - set(current):
            p.remove_clip(self._store_ids[uid])
        for clip in current.values():
            track_id = self.model.track(clip.track).store_id
            assert track_id is not None
            self._save_clip(clip, track_id)
        shots = {s.uid: s for s in self.model.shots}
        for uid in set(self._saved_shots) - set(shots):
            p.remove_clip(self._store_ids[uid])
        for shot in shots.values():
            self._save_shot(shot)
        for track, old in changed:
            if track.locked and not old.locked:
                p.update_track(track.store_id, locked=True)
        self._remember_saved()
        self.saved.emit()

    def _save_clip(self, clip: Clip, track_id: int) -> None:
        p = self.project
        store_id = self._store_ids.get(clip.uid)
        old = self._saved.get(clip.uid)
        if store_id is None:
            record = p.place_clip(track_id, clip.start, clip.duration, version_id=clip.version_id,
                                  text=clip.text if clip.version_id is None else None,
                                  weight=clip.weight, in_point=clip.in_point)
            self._store_ids[clip.uid] = record.id
            return
        if old is None:  # deleted at an earlier save, brought back by undo
            p.restore_clip(store_id)
            old = replace(clip, start=-1.0)  # force every field to be written
        if old == clip:
            return
        if clip.version_id is not None and clip.version_id != old.version_id:
            p.set_current_version(store_id, clip.version_id)
        if clip.track != old.track:
            p.move_clip(store_id, track_id=track_id)
        if (clip.start, clip.duration, clip.in_point) != (old.start, old.duration, old.in_point):
            p.trim_clip(store_id, start=clip.start, duration=clip.duration, in_point=clip.in_point)
        if clip.weight != old.weight:
            p.set_clip_weight(store_id, clip.weight)
        if clip.text is not None and clip.text != old.text and clip.version_id is None:
            p.set_clip_text(store_id, clip.text)

    def _save_shot(self, shot: Shot) -> None:
        p = self.project
        assert self._shots_track_id is not None
        text = _shot_text(shot)
        store_id = self._store_ids.get(shot.uid)
        old = self._saved_shots.get(shot.uid)
        if store_id is None:
            record = p.place_clip(self._shots_track_id, shot.start, shot.duration, text=text)
            self._store_ids[shot.uid] = record.id
            return
        if old is None:
            p.restore_clip(store_id)
        if old is None or (old.start, old.end) != (shot.start, shot.end):
            p.trim_clip(store_id, start=shot.start, duration=shot.duration)
        if old is None or old != shot:
            p.set_clip_text(store_id, text)

    # ---- media -----------------------------------------------------------------------------
    def version(self, version_id: int) -> VersionRecord:
        if version_id not in self._versions:
            self._versions[version_id] = self.project.version(version_id)
        return self._versions[version_id]

    def media(self, version_id: int) -> MediaValue:
        """A version decoded, from a small LRU cache (decoding video is not free)."""
        if version_id in self._media:
            self._media.move_to_end(version_id)
            return self._media[version_id]
        value = self.project.read_media(version_id)
        self._media[version_id] = value
        while len(self._media) > MEDIA_CACHE_SIZE:
            self._media.popitem(last=False)
        return value

    def import_files(self, paths: Iterable[str | Path]) -> tuple[list[VersionRecord], list[ImportProblem]]:
        """Copies files into the project; unreadable ones are reported, not raised."""
        done: list[VersionRecord] = []
        problems: list[ImportProblem] = []
        for path in paths:
            try:
                done.append(self.project.import_media(path))
            except (MediaError, StoreError, OSError) as exc:
                problems.append(ImportProblem(str(path), str(getattr(exc, "reason", None) or exc)))
        if done:
            self._refresh_assets()
            self.binChanged.emit()
        return done, problems

    def _refresh_assets(self) -> None:
        self._assets = {a.id: a for a in self.project.assets()}

    def asset(self, asset_id: int) -> AssetRecord:
        if asset_id not in self._assets:
            self._refresh_assets()
        return self._assets[asset_id]

    def bin_entries(self) -> list[BinEntry]:
        entries = []
        for a in self._assets.values():
            if a.deleted or a.latest_version_id is None:
                continue
            version = self.version(a.latest_version_id)
            modality = Modality.parse(a.modality)
            thumb = self.waveform_pixmap(version.id) if modality == Modality.AUDIO else self.pixmap(version.id)
            entries.append(BinEntry(a.id, a.name, modality, _facts_text(version), thumb, a.origin == "generation"))
        return entries

    def clip_for_asset(self, asset_id: int, track_uid: str | None, time: float) -> Clip:
        """A new clip of the asset's latest version, on `track_uid` if it takes that kind of media."""
        asset = self.asset(asset_id)
        if asset.latest_version_id is None:
            raise ValueError(f"asset {asset.name} has no version to place")
        return self.clip_for_version(self.version(asset.latest_version_id), track_uid, time)

    def clip_for_version(self, version: VersionRecord, track_uid: str | None, time: float) -> Clip:
        from codi_studio.studio.timeline_model import new_uid  # noqa: PLC0415

        modality = Modality.parse(version.modality)
        track = self._track_for(modality, track_uid)
        asset = self.asset(version.asset_id)
        if modality == Modality.TEXT:
            text = self.media(version.id)
            assert isinstance(text, Text)
            return Clip(new_uid("c"), track.uid, time, STILL_SECONDS * 2, text=text.text, label=asset.name)
        timed = modality in (Modality.AUDIO, Modality.VIDEO)
        duration = version.facts.duration if timed and version.facts.duration else STILL_SECONDS
        return Clip(new_uid("c"), track.uid, time, float(duration),
                    source_duration=float(duration) if timed else None,
                    asset_id=version.asset_id, version_id=version.id, label=asset.name)

    def _track_for(self, modality: Modality, track_uid: str | None) -> Track:
        if track_uid:
            track = self.model.track(track_uid)
            if track.kind == modality and not track.locked:
                return track
        for t in self.model.tracks:
            if t.kind == modality and t.role == CONDITION and not t.locked:
                return t
        raise ValueError(f"no unlocked {modality.value} track to put this on")

    # ---- previews (ClipPreviews for the timeline items) ------------------------------------
    def pixmap(self, version_id: int) -> QPixmap | None:
        if version_id not in self._pixmaps:
            data = None
            try:
                data = self.project.thumbnail(version_id, 128)
            except (MediaError, StoreError):
                pass  # an unreadable medium shows as a plain clip
            self._pixmaps[version_id] = _pixmap_from_png(data)
        return self._pixmaps[version_id]

    def thumbnail(self, clip: Clip) -> QPixmap | None:
        return None if clip.version_id is None else self.pixmap(clip.version_id)

    def peaks(self, clip: Clip) -> np.ndarray | None:
        if clip.version_id is None:
            return None
        if clip.version_id not in self._peaks:
            try:
                self._peaks[clip.version_id] = self.project.waveform(clip.version_id, 512)
            except (MediaError, StoreError):
                self._peaks[clip.version_id] = None
        return self._peaks[clip.version_id]

    def waveform_pixmap(self, version_id: int) -> QPixmap | None:
        peaks = self.peaks(Clip("_", "_", 0, 1, version_id=version_id))
        if peaks is None:
            return None
        pixmap = QPixmap(96, 64)
        pixmap.fill(QColor(24, 40, 30))
        p = QPainter(pixmap)
        p.setPen(theme.MODALITY_COLORS[Modality.AUDIO].lighter(140))
        idx = np.linspace(0, len(peaks) - 1, 96).astype(int)
        for x, i in enumerate(idx):
            lo, hi = float(peaks[i, 0]), float(peaks[i, 1])
            p.drawLine(x, int(32 - hi * 30), x, int(32 - lo * 30))
        p.end()
        return pixmap

    # ---- what the viewer and the exporter see ----------------------------------------------
    def _invalidate_placed(self) -> None:
        self._placed = None

    def placed_clips(self) -> list[PlacedClip]:
        """The current (unsaved included) timeline with decoded media, for viewing and export."""
        if self._placed is None:
            placed = []
            for order, track in enumerate(self.model.tracks):
                if track.muted or track.kind == Modality.TEXT:
                    continue
                for c in self.model.clips_on(track.uid):
                    if c.version_id is None:
                        continue
                    try:
                        value = self.media(c.version_id)
                    except (MediaError, StoreError):
                        continue
                    placed.append(PlacedClip(track.kind, order, c.start, c.duration, c.in_point, value))
            self._placed = placed
        return self._placed

    def text_at(self, t: float) -> str:
        """The caption under the playhead: a generated text if there is one, else a condition text."""
        found = ""
        for track in self.model.tracks:
            if track.kind != Modality.TEXT or track.muted:
                continue
            for c in self.model.clips_on(track.uid):
                if c.start <= t < c.end and c.text:
                    found = c.text
        return found

    # ---- generation ------------------------------------------------------------------------
    def request_for(self, shot: Shot) -> tuple[GenerationRequest, list[RecipeInput]]:
        """The generation request for a shot: its overlapping conditions with their weights."""
        conditions: list[Condition] = []
        inputs: list[RecipeInput] = []
        for clip in self.model.conditions_for(shot):
            kind = self.model.track(clip.track).kind
            if clip.version_id is None:
                if not clip.text:
                    continue
                conditions.append(Condition(Text(clip.text), clip.weight, None))
                inputs.append(RecipeInput("text", clip.weight, text=clip.text))
            else:
                value = self.media(clip.version_id)
                conditions.append(Condition(value, clip.weight, f"version:{clip.version_id}"))
                inputs.append(RecipeInput(kind.value, clip.weight, version_id=clip.version_id))
        s = shot.settings
        request = GenerationRequest(conditions=conditions, outputs=list(s.outputs), seed=s.seed, steps=s.steps,
                                    guidance=s.guidance, sampler=s.sampler, model=s.model)
        return request, inputs

    def recorder(self, shot: Shot, request: GenerationRequest, inputs: Sequence[RecipeInput],
                 job_id: int | None = None) -> Callable[[GenerationResult], "Recorded"]:
        """What the worker thread runs after generating: store the result as new versions.

        Regenerating a shot adds versions to the assets its output clips already show. The store
        API is thread-safe (each call is its own transaction on a pooled connection), and doing
        the encoding and writing there keeps the UI thread free. Thumbnails and waveforms are
        computed there too, so the timeline only reads them back.
        """
        existing = {self.model.track(c.track).kind: c for c in self.model.output_clips(shot.uid)}
        asset_ids = {m.value: c.asset_id for m, c in existing.items() if c.asset_id is not None}
        project = self.project
        name = shot.name or "Shot"

        def record(result: GenerationResult) -> Recorded:
            recipe = recipe_for(request, result, inputs=inputs, n_samples=1,
                                extra={"shot": name, "timings": dict(result.timings)})
            record = project.record_generation(recipe, result.samples[0], asset_ids=asset_ids, job_id=job_id,
                                               name=name)
            recorded = Recorded(record, {})
            for version in record.versions:
                if version.sample_index not in (0, None):
                    continue
                recorded.values[version.id] = result.samples[0][Modality.parse(version.modality)]
                if version.modality in ("image", "video"):
                    recorded.thumbnails[version.id] = project.thumbnail(version.id, 128)
                if version.modality in ("audio", "video"):
                    recorded.peaks[version.id] = project.waveform(version.id, 512)
            return recorded

        return record

    def place_recorded(self, shot: Shot, recorded: "Recorded") -> tuple[list[Clip], list[Clip]]:
        """Output clips for a recorded generation: (new clips, updated clips) at the shot's place."""
        from codi_studio.studio.timeline_model import new_uid  # noqa: PLC0415

        record = recorded.record
        existing = {self.model.track(c.track).kind: c for c in self.model.output_clips(shot.uid)}
        link = f"g{record.id}" if len(record.versions) > 1 else None
        added: list[Clip] = []
        updated: list[Clip] = []
        for version in record.versions:
            if version.id not in recorded.values:
                continue
            self._versions[version.id] = version
            value = recorded.values[version.id]
            self._media[version.id] = value  # the generated value itself: no decoding to show it
            if version.id in recorded.thumbnails:
                self._pixmaps[version.id] = _pixmap_from_png(recorded.thumbnails[version.id])
            if version.id in recorded.peaks:
                self._peaks[version.id] = recorded.peaks[version.id]
            modality = Modality.parse(version.modality)
            timed = modality in (Modality.AUDIO, Modality.VIDEO)
            source = version.facts.duration if timed else None
            duration = min(shot.duration, source) if source else shot.duration
            text = value.text if isinstance(value, Text) else None
            label = f"{shot.name or 'Shot'} v{version.number}"
            if modality in existing:
                old = existing[modality]
                updated.append(replace(old, version_id=version.id, asset_id=version.asset_id, duration=duration,
                                       in_point=0.0, source_duration=source, label=label, link=link, text=text))
            else:
                track = self.model.output_track(modality)
                added.append(Clip(new_uid("c"), track.uid, shot.start, duration, source_duration=source,
                                  asset_id=version.asset_id, version_id=version.id, label=label, link=link,
                                  shot=shot.uid, text=text))
        self._refresh_assets()  # after the caches above are primed, so the bin reads no media
        self.binChanged.emit()
        return added, updated

    def versions_of(self, clip: Clip) -> list[VersionRecord]:
        if clip.asset_id is None:
            return []
        versions = self.project.versions(asset_id=clip.asset_id)
        for v in versions:
            self._versions[v.id] = v
        return versions

    def partner_version(self, partner: Clip, version: VersionRecord) -> int | None:
        """The version of a linked clip's asset made by the same generation as `version`."""
        if partner.asset_id is None or version.generation_id is None:
            return None
        for v in self.versions_of(partner):
            if v.generation_id == version.generation_id:
                return v.id
        return None

    def clip_with_version(self, clip: Clip, version_id: int) -> Clip:
        version = self.version(version_id)
        source = version.facts.duration if self.model.track(clip.track).kind in (Modality.AUDIO, Modality.VIDEO) \
            else None
        duration = clip.duration if source is None else min(clip.duration if clip.source_duration else source,
                                                           source)
        text = clip.text
        if self.model.track(clip.track).kind == Modality.TEXT:
            value = self.media(version_id)
            text = value.text if isinstance(value, Text) else text
        label = clip.label.rsplit(" v", 1)[0] + f" v{version.number}" if clip.label else f"v{version.number}"
        return replace(clip, version_id=version_id, source_duration=source, duration=max(0.05, duration),
                       in_point=0.0 if source is not None else clip.in_point, label=label, text=text)


# ---- helpers ---------------------------------------------------------------------------------
def _pixmap_from_png(data: bytes | None) -> QPixmap | None:
    if not data:
        return None
    pixmap = QPixmap()
    pixmap.loadFromData(data, "PNG")
    return pixmap



def _track_of(record: TrackRecord) -> Track:
    return Track(uid=f"t{record.id}", kind=Modality.parse(record.kind), role=record.role, name=record.name,
                 muted=record.muted, locked=record.locked, store_id=record.id)


def _label(asset: AssetRecord | None, version: VersionRecord) -> str:
    name = asset.name if asset else version.source_name or version.modality
    return f"{name} v{version.number}" if version.origin == "generation" else name


def _facts_text(version: VersionRecord) -> str:
    f = version.facts
    if version.modality == "image" and f.width:
        return f"{f.width}×{f.height}"
    if version.modality == "video" and f.width:
        return f"{f.width}×{f.height} {f.duration or 0:.1f}s"
    if version.modality == "audio" and f.sample_rate:
        return f"{f.duration or 0:.1f}s {f.sample_rate / 1000:g} kHz"
    return version.modality


def _shot_text(shot: Shot) -> str:
    s = shot.settings
    return json.dumps({"name": shot.name, "outputs": [m.value for m in s.outputs], "seed": s.seed,
                       "steps": s.steps, "guidance": s.guidance, "sampler": s.sampler, "model": s.model})


def _shot_from_text(uid: str, start: float, end: float, text: str) -> Shot:
    try:
        data = json.loads(text)
        settings = ShotSettings(outputs=tuple(Modality.parse(m) for m in data["outputs"]), seed=int(data["seed"]),
                                steps=int(data["steps"]), guidance=float(data["guidance"]),
                                sampler=str(data["sampler"]), model=data.get("model"))
        return Shot(uid, start, end, settings, name=str(data.get("name", "")))
    except (ValueError, KeyError, TypeError):  # a hand-edited shot row: keep the range, default settings
        return Shot(uid, start, end, ShotSettings(), name="Shot")


def _link_and_assign(clips: list[Clip], tracks: list[Track], shots: list[Shot], version_of) -> list[Clip]:  # noqa: ANN001
    """Output clips get their shot (by place) and a link to clips of the same generation."""
    roles = {t.uid: t.role for t in tracks}
    out = []
    for clip in clips:
        if roles.get(clip.track) == OUTPUT:
            shot = next((s for s in shots if s.start - 1e-6 <= clip.start < s.end), None)
            link = None
            if clip.version_id is not None:
                generation = version_of(clip.version_id).generation_id
                partners = [c for c in clips if c is not clip and roles.get(c.track) == OUTPUT
                            and c.version_id is not None and version_of(c.version_id).generation_id == generation]
                if generation is not None and partners:
                    link = f"g{generation}"
            clip = replace(clip, shot=shot.uid if shot else None, link=link)
        out.append(clip)
    return out
