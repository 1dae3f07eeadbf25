"""Media in the bin: imports, immutable versions, reading and exporting them, picking and deleting."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from codi_studio.media.values import MediaError, MediaValue
from codi_studio.store import blobs, codec
from codi_studio.store.blobs import utcnow
from codi_studio.store.convert import VERSION_LOAD, asset_record, clip_record, version_record
from codi_studio.store.errors import InvalidOperationError, NotFoundError
from codi_studio.store.queries import version_records, version_select
from codi_studio.store.records import AssetRecord, ClipRecord, MediaFacts, VersionRecord
from codi_studio.store.schema import AssetRow, ClipRow, TrackRow, VersionRow
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

