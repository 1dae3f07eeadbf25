"""Media in the bin: imports, immutable versions, previews, search, lineage, purge."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from codi_studio.media.values import MediaError, MediaValue
from codi_studio.store import blobs, codec
from codi_studio.store.blobs import utcnow
from codi_studio.store.convert import VERSION_LOAD, asset_record, clip_record, version_record
from codi_studio.store.database import connect_raw
from codi_studio.store.errors import InvalidOperationError, NotFoundError
from codi_studio.store.records import (
    AssetRecord,
    ClipRecord,
    LineageInput,
    LineageNode,
    MediaFacts,
    PurgeReport,
    VersionRecord,
)
from codi_studio.store.prompt_index import fts_query, remove_from_prompt_index
from codi_studio.store.queries import prompt_matches_newest_first, version_records, version_select
from codi_studio.store.schema import (
    AssetRow,
    BlobRow,
    ClipRow,
    GenerationInputRow,
    GenerationRow,
    JobRow,
    PreviewRow,
    TrackRow,
    VersionRow,
    version_is_live,
)
from codi_studio.store.timeline import TimelineOps

EQUIVALENT_SUFFIXES = {"jpeg": "jpg", "tif": "tiff", "htm": "html", "text": "txt"}


class VersionOps(TimelineOps):
    # --- adding media ----------------------------------------------------------------------------

    def import_media(self, path: str | os.PathLike[str], name: str | None = None) -> VersionRecord:
        """Copy a media file into the project (byte for byte) as a new asset; deduplicated.

        Importing content that is already in the bin returns the existing
        version. Raises MediaError (naming the file) for anything unreadable.
        """
        source = Path(path)
        if not source.is_file():
            raise MediaError(source, "no such file")
        modality, facts = codec.probe_file(source)  # the media layer vouches for the content first
        content_hash, size = blobs.sha256_file(source)
        with self._write() as s:
            existing = self._existing_plain_version(s, content_hash, modality)
            if existing is not None:
                return existing
            with source.open("rb") as stream:
                try:
                    blobs.put_stream(s, content_hash, size, stream)
                except ValueError as exc:
                    raise MediaError(source, str(exc)) from None
            row = self._new_version(
                s,
                self._new_asset(s, modality, name or source.name, "import"),
                modality,
                content_hash,
                codec.safe_suffix(source.name),
                facts,
                source_name=source.name,
            )
            return version_record(row)

    def add_value(self, value: MediaValue, name: str, asset_id: int | None = None) -> VersionRecord:
        """Store a media value made in the app (an edited text, a synthesized sample...).

        With `asset_id`, it becomes that asset's next version; otherwise a new
        asset, or the existing one holding exactly this content.
        """
        data, fmt = codec.encode(value)
        modality = value.modality.value
        with self._write() as s:
            content_hash = blobs.put_bytes(s, data)
            if asset_id is None:
                existing = self._existing_plain_version(s, content_hash, modality)
                if existing is not None:
                    return existing
                asset = self._new_asset(s, modality, name, "value")
            else:
                asset = self._asset_row(s, asset_id)
                if asset.modality != modality:
                    raise InvalidOperationError(self.path, f"asset {asset_id} holds {asset.modality}, not {modality}")
            return version_record(self._new_version(s, asset, modality, content_hash, fmt, codec.facts_of(value)))

    # --- reading ------------------------------------------------------------------------------

    def version(self, version_id: int) -> VersionRecord:
        """A version by id (deleted ones too: lineage must stay readable)."""
        with self._read() as s:
            found = version_records(s, version_select().where(VersionRow.id == version_id))
            if not found:
                raise NotFoundError(self.path, f"no version {version_id}")
            return found[0]

    def versions(
        self, *, asset_id: int | None = None, clip_id: int | None = None, include_deleted: bool = False
    ) -> list[VersionRecord]:
        """The versions of an asset (or of the asset a clip shows), oldest first."""
        with self._read() as s:
            if clip_id is not None:
                clip = self._clip_row(s, clip_id)
                if clip.asset_id is None:
                    return []
                asset_id = clip.asset_id
            if asset_id is None:
                raise InvalidOperationError(self.path, "versions() needs an asset_id or a clip_id")
            query = version_select().where(VersionRow.asset_id == asset_id)
            if not include_deleted:
                query = query.where(VersionRow.deleted_at.is_(None))
            return version_records(s, query.order_by(VersionRow.number))

    def asset(self, asset_id: int) -> AssetRecord:
        with self._read() as s:
            return self._asset_records(s, [self._asset_row(s, asset_id, live=False)])[0]

    def assets(self, modality: str | None = None, include_deleted: bool = False) -> list[AssetRecord]:
        """The media bin, oldest first."""
        with self._read() as s:
            query = select(AssetRow).order_by(AssetRow.id)
            if modality is not None:
                query = query.where(AssetRow.modality == self._modality(modality))
            if not include_deleted:
                query = query.where(AssetRow.deleted_at.is_(None))
            return self._asset_records(s, list(s.scalars(query).all()))

    def read_bytes(self, version_id: int) -> bytes:
        """The stored file of a version, checked against its hash."""
        with self._read() as s:
            row = self._version_row(s, version_id, live=False)
            try:
                return blobs.get_bytes(s, row.blob_hash)
            except ValueError as exc:
                raise InvalidOperationError(self.path, f"version {version_id}: {exc}") from None

    def read_media(self, version_id: int) -> MediaValue:
        """A version decoded as a media value (what the viewer shows, what a generation takes)."""
        fmt = self.version(version_id).format
        return codec.decode(self.read_bytes(version_id), fmt)

    def export_version(self, version_id: int, path: str | os.PathLike[str]) -> Path:
        """Write a version's file to `path` (suffix added if missing) and its metadata to `path`.json.

        Both are written to temporary names and renamed into place, so a crash
        leaves either the old state or the complete export.
        """
        record = self.version(version_id)
        target = Path(path)
        suffix = target.suffix.lstrip(".").lower()
        if not suffix:
            target = target.with_name(f"{target.name}.{record.format}")
        elif EQUIVALENT_SUFFIXES.get(suffix, suffix) != EQUIVALENT_SUFFIXES.get(record.format, record.format):
            raise InvalidOperationError(
                target, f"version {version_id} is stored as .{record.format}; export it with that extension"
            )
        data = self.read_bytes(version_id)
        metadata = json.dumps({"format": "codi-studio-version", "version": record.to_dict()}, indent=2)
        _write_atomic(target, data)
        _write_atomic(target.with_name(target.name + ".json"), metadata.encode("utf-8"))
        return target

    # --- previews -----------------------------------------------------------------------------

    def thumbnail(self, version_id: int, max_side: int = 128) -> bytes | None:
        """A PNG thumbnail of an image or video version (None for text and audio); cached."""
        cached = self._cached_preview(version_id, "thumbnail", max_side)
        if cached is not None:
            return cached or None
        from codi_studio.media import thumbnail_png

        record = self.version(version_id)
        picture = codec.decode_picture(self.read_bytes(version_id), record.format, record.modality)
        png = thumbnail_png(picture, max_side) if picture is not None else None
        self._cache_preview(version_id, "thumbnail", max_side, png or b"")
        return png

    def waveform(self, version_id: int, n_bins: int = 256) -> np.ndarray | None:
        """(n_bins, 2) float32 min/max peaks of an audio version or a video's sound; cached."""
        cached = self._cached_preview(version_id, "waveform", n_bins)
        if cached is not None:
            return np.frombuffer(cached, np.float32).reshape(n_bins, 2).copy() if cached else None
        from codi_studio.media import waveform_peaks

        record = self.version(version_id)
        sound = codec.decode_sound(self.read_bytes(version_id), record.format, record.modality)
        peaks = waveform_peaks(sound, n_bins).astype(np.float32) if sound is not None else None
        self._cache_preview(version_id, "waveform", n_bins, peaks.tobytes() if peaks is not None else b"")
        return peaks

    def _cached_preview(self, version_id: int, kind: str, size: int) -> bytes | None:
        with self._read() as s:
            self._version_row(s, version_id, live=False)
            return s.scalar(
                select(PreviewRow.data).where(
                    PreviewRow.version_id == version_id, PreviewRow.kind == kind, PreviewRow.size == size
                )
            )

    def _cache_preview(self, version_id: int, kind: str, size: int, data: bytes) -> None:
        if self.read_only:
            return  # computed, just not kept
        with self._write() as s:
            if s.get(PreviewRow, (version_id, kind, size)) is None:
                s.add(PreviewRow(version_id=version_id, kind=kind, size=size, data=data))

    # --- versions of clips ------------------------------------------------------------------------

    def set_current_version(self, clip_id: int, version_id: int) -> ClipRecord:
        """Make a clip show one of its asset's versions (an empty output clip adopts the asset)."""
        with self._write() as s:
            clip = self._clip_row(s, clip_id)
            version = self._version_row(s, version_id)
            if clip.asset_id is None:
                self._check_kind(s.get(TrackRow, clip.track_id), version.modality)  # type: ignore[arg-type]
                clip.asset_id = version.asset_id
            elif version.asset_id != clip.asset_id:
                raise InvalidOperationError(self.path, f"version {version_id} is not a version of clip {clip_id}'s asset")
            clip.current_version_id = version.id
            return clip_record(clip, version.id)

    def diff_recipes(self, version_a: int, version_b: int) -> dict[str, tuple[Any, Any]]:
        """The recipe fields that differ between two versions: {field: (a, b)}; imports have no recipe."""
        a, b = self.version(version_a).recipe, self.version(version_b).recipe
        da = a.to_dict() if a else {}
        db = b.to_dict() if b else {}
        return {k: (da.get(k), db.get(k)) for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)}

    # --- deleting -----------------------------------------------------------------------------

    def delete_version(self, version_id: int) -> None:
        """Hide a version (soft: `restore_version` undoes it until `purge`)."""
        with self._write() as s:
            self._version_row(s, version_id).deleted_at = utcnow()

    def restore_version(self, version_id: int) -> VersionRecord:
        with self._write() as s:
            row = self._version_row(s, version_id, live=False)
            row.deleted_at = None
            return version_record(row)

    def delete_asset(self, asset_id: int) -> None:
        """Remove an asset from the bin (soft). Refused while clips on the timeline use it."""
        with self._write() as s:
            row = self._asset_row(s, asset_id)
            used = s.scalar(
                select(func.count()).where(ClipRow.asset_id == asset_id, ClipRow.deleted_at.is_(None))
            )
            if used:
                raise InvalidOperationError(self.path, f"asset {asset_id} is used by {used} clip(s); remove them first")
            row.deleted_at = utcnow()

    def restore_asset(self, asset_id: int) -> AssetRecord:
        with self._write() as s:
            row = self._asset_row(s, asset_id, live=False)
            row.deleted_at = None
            return self._asset_records(s, [row])[0]

    def purge(self) -> PurgeReport:
        """Forget deleted clips, versions and assets for good and give their space back.

        A deleted version is kept while anything live still needs it: a clip
        that shows it or its asset, or a kept generation that used it as an
        input (lineage never breaks). Media no version uses are dropped, then
        the file is compacted (VACUUM).
        """
        before = self.disk_bytes()
        with self._write() as s:
            clips = s.execute(delete(ClipRow).where(ClipRow.deleted_at.is_not(None))).rowcount
            doomed = self._purgeable_versions(s)
            if doomed:
                # generations all of whose outputs go: they go too (their inputs first, then versions)
                orphan_ids = list(s.scalars(
                    select(GenerationRow.id).where(
                        exists().where(VersionRow.generation_id == GenerationRow.id, VersionRow.id.in_(doomed)),
                        ~exists().where(VersionRow.generation_id == GenerationRow.id, VersionRow.id.not_in(doomed)),
                    )
                ).all())
                s.execute(update(JobRow).where(JobRow.generation_id.in_(orphan_ids)).values(generation_id=None))
                s.execute(delete(GenerationInputRow).where(GenerationInputRow.generation_id.in_(orphan_ids)))
                s.execute(update(ClipRow).where(ClipRow.current_version_id.in_(doomed)).values(current_version_id=None))
                s.execute(delete(PreviewRow).where(PreviewRow.version_id.in_(doomed)))
                n_versions = s.execute(delete(VersionRow).where(VersionRow.id.in_(doomed))).rowcount
                remove_from_prompt_index(s, orphan_ids)
                s.execute(delete(GenerationRow).where(GenerationRow.id.in_(orphan_ids)))
            else:
                n_versions = 0
            n_assets = s.execute(
                delete(AssetRow).where(
                    ~exists().where(VersionRow.asset_id == AssetRow.id),
                    ~exists().where(ClipRow.asset_id == AssetRow.id),
                )
            ).rowcount
            unused = select(BlobRow.hash).where(~exists().where(VersionRow.blob_hash == BlobRow.hash))
            freed = int(s.scalar(select(func.coalesce(func.sum(BlobRow.size), 0)).where(BlobRow.hash.in_(unused))) or 0)
            n_blobs = s.execute(delete(BlobRow).where(BlobRow.hash.in_(unused))).rowcount
        self._vacuum()
        return PurgeReport(
            clips=clips,
            versions=n_versions,
            assets=n_assets,
            blobs=n_blobs,
            bytes_freed=freed,
            file_bytes_before=before,
            file_bytes_after=self.disk_bytes(),
        )

    def _purgeable_versions(self, s: Session) -> list[int]:
        hidden = or_(
            VersionRow.deleted_at.is_not(None),
            select(AssetRow.deleted_at).where(AssetRow.id == VersionRow.asset_id).scalar_subquery().is_not(None),
        )
        shown_by_clip = exists().where(
            or_(ClipRow.current_version_id == VersionRow.id, ClipRow.asset_id == VersionRow.asset_id)
        )
        candidates = set(s.scalars(select(VersionRow.id).where(hidden, ~shown_by_clip)).all())
        while True:
            keep = set(
                s.scalars(
                    select(GenerationInputRow.version_id).where(
                        GenerationInputRow.version_id.in_(candidates),
                        exists().where(
                            VersionRow.generation_id == GenerationInputRow.generation_id,
                            VersionRow.id.not_in(candidates),
                        ),
                    )
                ).all()
            )
            if not keep:
                break
            candidates -= keep  # still an input of a generation that keeps some output
        return sorted(candidates)

    def _vacuum(self) -> None:
        """Compact the file. Skipped (space stays free inside the file) if a reader blocks it."""
        self._engine.dispose()  # our idle pooled connections would only get in the way
        conn = connect_raw(self.path)
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:
            pass  # SQLITE_BUSY from another process reading: harmless, VACUUM is all-or-nothing
        finally:
            conn.close()

    # --- search, history, lineage -------------------------------------------------------------------

    def search_versions(
        self,
        prompt: str | None = None,
        *,
        modality: str | None = None,
        seed: int | None = None,
        model: str | None = None,
        include_deleted: bool = False,
        limit: int = 100,
    ) -> list[VersionRecord]:
        """Versions matching every given filter, newest first, at most `limit`.

        `prompt` matches words of the generation's text inputs (any order,
        case-insensitive, the last word as a prefix); `model` matches the
        model id or hash.
        """
        filters = []
        if modality is not None:
            filters.append(VersionRow.modality == self._modality(modality))
        if seed is not None or model is not None:
            gens = select(GenerationRow.id)
            if seed is not None:
                gens = gens.where(GenerationRow.seed == seed)
            if model is not None:
                gens = gens.where(or_(GenerationRow.model_id == model, GenerationRow.model_hash == model))
            filters.append(VersionRow.generation_id.in_(gens))
        if not include_deleted:
            filters.append(version_is_live())
        newest_first = VersionRow.id.desc()
        with self._read() as s:
            if prompt is None or not prompt.strip():
                return version_records(s, version_select().where(*filters).order_by(newest_first).limit(limit))
            fts = fts_query(prompt)
            if not fts:
                return []
            found: list[VersionRecord] = []
            # generation ids grow with time and a generation's versions are made with it, so walking
            # matching generations newest first yields versions newest first
            for generation_ids in prompt_matches_newest_first(s, fts, page=max(2 * limit, 64)):
                query = version_select().where(VersionRow.generation_id.in_(generation_ids), *filters)
                found += version_records(s, query.order_by(newest_first).limit(limit - len(found)))
                if len(found) >= limit:
                    break
            return found

    def history(self, limit: int | None = None, include_deleted: bool = False) -> list[VersionRecord]:
        """Every version, newest first, with its recipe."""
        with self._read() as s:
            query = version_select().order_by(VersionRow.id.desc())
            if not include_deleted:
                query = query.where(version_is_live())
            if limit is not None:
                query = query.limit(limit)
            return version_records(s, query)

    def lineage(self, version_id: int) -> LineageNode:
        """A version with the versions it was made from, recursively back to imports."""
        with self._read() as s:
            return self._lineage(s, version_id, set())

    def _lineage(self, s: Session, version_id: int, visiting: set[int]) -> LineageNode:
        row = s.scalars(select(VersionRow).where(VersionRow.id == version_id).options(*VERSION_LOAD)).one()
        record = version_record(row)
        inputs: list[LineageInput] = []
        if row.generation is not None and version_id not in visiting:
            visiting = visiting | {version_id}
            for inp in row.generation.inputs:
                source = self._lineage(s, inp.version_id, visiting) if inp.version_id is not None else None
                inputs.append(LineageInput(modality=inp.modality, weight=inp.weight, text=inp.text, source=source))
        return LineageNode(version=record, inputs=tuple(inputs))

    # --- helpers -------------------------------------------------------------------------------

    def _asset_row(self, s: Session, asset_id: int, live: bool = True) -> AssetRow:
        row = s.get(AssetRow, asset_id)
        if row is None or (live and row.deleted_at is not None):
            raise NotFoundError(self.path, f"no asset {asset_id}")
        return row

    def _asset_records(self, s: Session, rows: Sequence[AssetRow]) -> list[AssetRecord]:
        if not rows:
            return []
        stats = {
            asset_id: (count, latest)
            for asset_id, count, latest in s.execute(
                select(VersionRow.asset_id, func.count(), func.max(VersionRow.id))
                .where(VersionRow.asset_id.in_([r.id for r in rows]), VersionRow.deleted_at.is_(None))
                .group_by(VersionRow.asset_id)
            ).all()
        }
        return [asset_record(r, *stats.get(r.id, (0, None))) for r in rows]

    def _existing_plain_version(self, s: Session, content_hash: str, modality: str) -> VersionRecord | None:
        """A live imported/added version with exactly this content, if any (deduplication)."""
        row = s.scalars(
            select(VersionRow)
            .join(AssetRow, AssetRow.id == VersionRow.asset_id)
            .where(
                VersionRow.blob_hash == content_hash,
                VersionRow.modality == modality,
                VersionRow.generation_id.is_(None),
                VersionRow.deleted_at.is_(None),
                AssetRow.deleted_at.is_(None),
            )
            .order_by(VersionRow.id)
            .limit(1)
            .options(*VERSION_LOAD)
        ).first()
        return version_record(row) if row is not None else None

    def _new_asset(self, s: Session, modality: str, name: str, origin: str) -> AssetRow:
        row = AssetRow(modality=modality, name=name, origin=origin, created_at=utcnow())
        s.add(row)
        s.flush()
        return row

    def _new_version(
        self,
        s: Session,
        asset: AssetRow,
        modality: str,
        content_hash: str,
        fmt: str,
        facts: MediaFacts,
        *,
        source_name: str | None = None,
        generation_id: int | None = None,
        sample_index: int | None = None,
    ) -> VersionRow:
        number = int(s.scalar(select(func.coalesce(func.max(VersionRow.number), 0)).where(VersionRow.asset_id == asset.id)) or 0)
        row = VersionRow(
            asset_id=asset.id,
            number=number + 1,
            modality=modality,
            blob_hash=content_hash,
            format=fmt,
            source_name=source_name,
            width=facts.width,
            height=facts.height,
            fps=facts.fps,
            frames=facts.frames,
            duration=facts.duration,
            sample_rate=facts.sample_rate,
            channels=facts.channels,
            has_audio=facts.has_audio,
            generation_id=generation_id,
            sample_index=sample_index,
            created_at=utcnow(),
        )
        s.add(row)
        s.flush()
        s.refresh(row, ["asset", "blob", "generation"])
        return row


def _write_atomic(target: Path, data: bytes) -> None:
    scratch = target.with_name(f".{target.name}.part-{os.getpid()}")
    try:
        with scratch.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)

