"""Tracks and clips: where media sit on the timeline."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.orm import Session, aliased

from codi_studio.store.base import ProjectBase
from codi_studio.store.blobs import utcnow
from codi_studio.store.convert import clip_record, track_record
from codi_studio.store.queries import clip_records, clip_records_from_rows
from codi_studio.store.errors import InvalidOperationError, NotFoundError
from codi_studio.store.records import TRACK_ROLES, ClipRecord, TrackRecord, modality_name
from codi_studio.store.schema import AssetRow, ClipRow, TrackRow, VersionRow

STILL_DURATION = 5.0  # seconds a still (image, text, empty output) gets when placed without a duration
TIME_SLACK = 1e-6  # float seconds: tolerate rounding when checking trims against the source length


@lru_cache(maxsize=None)
def shown_version_expr():  # type: ignore[no-untyped-def]
    """SQL for the version a clip shows: its picked version if live, else its asset's latest live one.

    Built once: constructing the statement costs more than SQLite running it.
    """
    picked = aliased(VersionRow)
    latest = aliased(VersionRow)
    picked_live = (
        select(picked.id)
        .where(picked.id == ClipRow.current_version_id, picked.deleted_at.is_(None))
        .correlate(ClipRow)
        .scalar_subquery()
    )
    latest_live = (
        select(func.max(latest.id))
        .where(latest.asset_id == ClipRow.asset_id, latest.deleted_at.is_(None))
        .correlate(ClipRow)
        .scalar_subquery()
    )
    return func.coalesce(picked_live, latest_live)


@lru_cache(maxsize=None)
def clip_select():  # type: ignore[no-untyped-def]
    """Clip columns plus `shown`, the version the clip shows."""
    c = ClipRow
    return select(c.id, c.track_id, c.asset_id, c.current_version_id, c.text, c.start, c.duration, c.in_point,
                  c.weight, c.deleted_at.is_not(None).label("deleted"), shown_version_expr().label("shown"))


@lru_cache(maxsize=None)
def _timeline_sql() -> str:
    """The timeline query as SQL text, compiled once: the studio runs it after every edit."""
    query = clip_select().where(ClipRow.deleted_at.is_(None)).order_by(ClipRow.track_id, ClipRow.start, ClipRow.id)
    return str(query.compile(dialect=sqlite_dialect()))


class TimelineOps(ProjectBase):
    # --- tracks --------------------------------------------------------------------------------

    def add_track(self, kind: str, role: str = "condition", name: str | None = None, position: int | None = None) -> TrackRecord:
        kind = self._modality(kind)
        if role not in TRACK_ROLES:
            raise InvalidOperationError(self.path, f"unknown track role {role!r} (expected condition or output)")
        with self._write() as s:
            if position is None:
                position = int(s.scalar(select(func.coalesce(func.max(TrackRow.position), -1))) or 0) + 1
            row = TrackRow(kind=kind, role=role, position=position, name=name or f"{kind} {role}", muted=False, locked=False)
            s.add(row)
            s.flush()
            return track_record(row)

    def update_track(
        self,
        track_id: int,
        *,
        name: str | None = None,
        muted: bool | None = None,
        locked: bool | None = None,
        position: int | None = None,
    ) -> TrackRecord:
        with self._write() as s:
            row = self._track_row(s, track_id)
            if name is not None:
                row.name = name
            if muted is not None:
                row.muted = muted
            if locked is not None:
                row.locked = locked
            if position is not None:
                row.position = position
            return track_record(row)

    def remove_track(self, track_id: int) -> None:
        """Delete a track and its clips (the media stay in the bin)."""
        with self._write() as s:
            row = self._track_row(s, track_id)
            self._check_unlocked(row)
            s.delete(row)

    def tracks(self) -> list[TrackRecord]:
        with self._read() as s:
            rows = s.scalars(select(TrackRow).order_by(TrackRow.position, TrackRow.id)).all()
            return [track_record(r) for r in rows]

    def timeline(self) -> list[TrackRecord]:
        """Every track in order with its live clips by start, each with the version it shows."""
        with self._read() as s:
            tracks = s.scalars(select(TrackRow).order_by(TrackRow.position, TrackRow.id)).all()
            clips = clip_records_from_rows(s.connection().exec_driver_sql(_timeline_sql()).fetchall())
            by_track: dict[int, list[ClipRecord]] = {t.id: [] for t in tracks}
            for clip in clips:
                by_track[clip.track_id].append(clip)
            return [track_record(t, tuple(by_track[t.id])) for t in tracks]

    # --- clips ---------------------------------------------------------------------------------

    def place_clip(
        self,
        track_id: int,
        start: float,
        duration: float | None = None,
        *,
        version_id: int | None = None,
        asset_id: int | None = None,
        text: str | None = None,
        weight: float = 1.0,
        in_point: float = 0.0,
    ) -> ClipRecord:
        """Put a medium on a track.

        Give a `version_id` (the clip shows that version), an `asset_id` (it
        follows the asset's latest version), or `text` (text tracks); an
        output track may also hold an empty clip that a generation fills.
        Without `duration`, timed media run to their end and stills get 5 s.
        """
        if sum(x is not None for x in (version_id, asset_id, text)) > 1:
            raise InvalidOperationError(self.path, "give one of version_id, asset_id or text")
        with self._write() as s:
            track = self._track_row(s, track_id)
            self._check_unlocked(track)
            source_length: float | None = None
            picked: int | None = None
            if version_id is not None:
                version = self._version_row(s, version_id)
                asset_id, picked, source_length = version.asset_id, version.id, version.duration
                self._check_kind(track, version.modality)
            elif asset_id is not None:
                asset = s.get(AssetRow, asset_id)
                if asset is None or asset.deleted_at is not None:
                    raise NotFoundError(self.path, f"no asset {asset_id}")
                self._check_kind(track, asset.modality)
                source_length = s.scalar(
                    select(VersionRow.duration)
                    .where(VersionRow.asset_id == asset_id, VersionRow.deleted_at.is_(None))
                    .order_by(VersionRow.id.desc())
                    .limit(1)
                )
            elif text is not None:
                self._check_kind(track, "text")
            elif track.role != "output":
                raise InvalidOperationError(self.path, "an empty clip can only go on an output track")
            if duration is None:
                duration = (source_length - in_point) if source_length else STILL_DURATION
            self._check_times(start, duration, in_point, source_length)
            if weight < 0:
                raise InvalidOperationError(self.path, f"a clip weight must not be negative, got {weight}")
            row = ClipRow(
                track_id=track.id,
                asset_id=asset_id,
                current_version_id=picked,
                text=text,
                start=float(start),
                duration=float(duration),
                in_point=float(in_point),
                weight=float(weight),
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return clip_record(row, self._shown(s, row))

    def move_clip(self, clip_id: int, start: float | None = None, track_id: int | None = None) -> ClipRecord:
        with self._write() as s:
            row = self._clip_row(s, clip_id)
            self._check_unlocked(s.get(TrackRow, row.track_id))  # type: ignore[arg-type]
            if track_id is not None and track_id != row.track_id:
                target = self._track_row(s, track_id)
                self._check_unlocked(target)
                kind = self._clip_modality(s, row)
                if kind is not None:
                    self._check_kind(target, kind)
                elif target.role != "output":
                    raise InvalidOperationError(self.path, "an empty clip can only go on an output track")
                row.track_id = target.id
            if start is not None:
                self._check_times(start, row.duration, row.in_point, None)
                row.start = float(start)
            return clip_record(row, self._shown(s, row))

    def trim_clip(
        self, clip_id: int, *, start: float | None = None, duration: float | None = None, in_point: float | None = None
    ) -> ClipRecord:
        """Change a clip's edges: its place (`start`), length and where in the source it begins.

        Dragging the left edge right by d is start+d, in_point+d, duration-d.
        """
        with self._write() as s:
            row = self._clip_row(s, clip_id)
            self._check_unlocked(s.get(TrackRow, row.track_id))  # type: ignore[arg-type]
            new_start = row.start if start is None else float(start)
            new_duration = row.duration if duration is None else float(duration)
            new_in = row.in_point if in_point is None else float(in_point)
            shown = self._shown(s, row)
            length = s.get(VersionRow, shown).duration if shown is not None else None  # type: ignore[union-attr]
            self._check_times(new_start, new_duration, new_in, length)
            row.start, row.duration, row.in_point = new_start, new_duration, new_in
            return clip_record(row, shown)

    def set_clip_weight(self, clip_id: int, weight: float) -> ClipRecord:
        if weight < 0:
            raise InvalidOperationError(self.path, f"a clip weight must not be negative, got {weight}")
        with self._write() as s:
            row = self._clip_row(s, clip_id)
            self._check_unlocked(s.get(TrackRow, row.track_id))  # type: ignore[arg-type]
            row.weight = float(weight)
            return clip_record(row, self._shown(s, row))

    def set_clip_text(self, clip_id: int, text: str) -> ClipRecord:
        with self._write() as s:
            row = self._clip_row(s, clip_id)
            track = s.get(TrackRow, row.track_id)
            assert track is not None
            self._check_unlocked(track)
            if track.kind != "text" or row.asset_id is not None:
                raise InvalidOperationError(self.path, f"clip {clip_id} is not a text clip")
            row.text = text
            return clip_record(row, None)

    def remove_clip(self, clip_id: int) -> None:
        """Take a clip off the timeline (soft: `restore_clip` brings it back until a purge)."""
        with self._write() as s:
            row = self._clip_row(s, clip_id)
            self._check_unlocked(s.get(TrackRow, row.track_id))  # type: ignore[arg-type]
            row.deleted_at = utcnow()

    def restore_clip(self, clip_id: int) -> ClipRecord:
        with self._write() as s:
            row = s.get(ClipRow, clip_id)
            if row is None:
                raise NotFoundError(self.path, f"no clip {clip_id}")
            row.deleted_at = None
            return clip_record(row, self._shown(s, row))

    def clip(self, clip_id: int) -> ClipRecord:
        with self._read() as s:
            found = clip_records(s, clip_select().where(ClipRow.id == clip_id))
            if not found:
                raise NotFoundError(self.path, f"no clip {clip_id}")
            return found[0]

    # --- helpers shared with the other operation groups ------------------------------------------

    def _modality(self, name: str) -> str:
        try:
            return modality_name(name)
        except ValueError as exc:
            raise InvalidOperationError(self.path, str(exc)) from None

    def _track_row(self, s: Session, track_id: int) -> TrackRow:
        row = s.get(TrackRow, track_id)
        if row is None:
            raise NotFoundError(self.path, f"no track {track_id}")
        return row

    def _clip_row(self, s: Session, clip_id: int) -> ClipRow:
        row = s.get(ClipRow, clip_id)
        if row is None or row.deleted_at is not None:
            raise NotFoundError(self.path, f"no clip {clip_id}")
        return row

    def _version_row(self, s: Session, version_id: int, live: bool = True) -> VersionRow:
        row = s.get(VersionRow, version_id)
        if row is None or (live and row.deleted_at is not None):
            raise NotFoundError(self.path, f"no version {version_id}")
        return row

    def _check_unlocked(self, track: TrackRow) -> None:
        if track.locked:
            raise InvalidOperationError(self.path, f"track {track.id} ({track.name}) is locked")

    def _check_kind(self, track: TrackRow, modality: str) -> None:
        if track.kind != modality:
            raise InvalidOperationError(self.path, f"a {modality} clip cannot go on {track.kind} track {track.id}")

    def _check_times(self, start: float, duration: float, in_point: float, source_length: float | None) -> None:
        if start < 0 or duration <= 0 or in_point < 0:
            raise InvalidOperationError(
                self.path, f"bad clip times: start {start}, duration {duration}, in {in_point} (need start>=0, duration>0, in>=0)"
            )
        if source_length is not None and in_point + duration > source_length + TIME_SLACK:
            raise InvalidOperationError(
                self.path, f"trim runs past the end of the source ({in_point} + {duration} > {source_length:.6g} s)"
            )

    def _clip_modality(self, s: Session, row: ClipRow) -> str | None:
        if row.text is not None:
            return "text"
        if row.asset_id is not None:
            return s.scalar(select(AssetRow.modality).where(AssetRow.id == row.asset_id))
        return None

    def _shown(self, s: Session, row: ClipRow) -> int | None:
        return s.scalar(select(shown_version_expr()).select_from(ClipRow).where(ClipRow.id == row.id))


__all__ = ["TimelineOps", "shown_version_expr"]
