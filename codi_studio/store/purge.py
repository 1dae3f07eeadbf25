"""Purging: forget soft-deleted things for good and give their space back, never breaking lineage."""

from __future__ import annotations

import sqlite3

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from codi_studio.store.database import connect_raw
from codi_studio.store.history import HistoryOps
from codi_studio.store.prompt_index import remove_from_prompt_index
from codi_studio.store.records import PurgeReport
from codi_studio.store.schema import (
    AssetRow,
    BlobRow,
    ClipRow,
    GenerationInputRow,
    GenerationRow,
    JobRow,
    PreviewRow,
    VersionRow,
)


class PurgeOps(HistoryOps):
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

