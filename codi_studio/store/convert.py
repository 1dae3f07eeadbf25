"""ORM rows -> plain records (the only place that knows both)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from codi_studio.store.records import (
    AssetRecord,
    ClipRecord,
    JobRecord,
    MediaFacts,
    Recipe,
    RecipeInput,
    TrackRecord,
    VersionRecord,
)
from codi_studio.store.schema import AssetRow, ClipRow, GenerationRow, JobRow, TrackRow, VersionRow

# load what a VersionRecord needs in a few batched queries instead of one per row
VERSION_LOAD: tuple[_AbstractLoad, ...] = (
    selectinload(VersionRow.blob),
    selectinload(VersionRow.asset),
    selectinload(VersionRow.generation).selectinload(GenerationRow.inputs),
)


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


def recipe_of(row: GenerationRow) -> Recipe:
    inputs = tuple(
        RecipeInput(modality=i.modality, weight=i.weight, version_id=i.version_id, text=i.text)
        if i.version_id is not None
        else RecipeInput(modality=i.modality, weight=i.weight, text=i.text)
        for i in row.inputs
    )
    return Recipe(
        model_id=row.model_id,
        model_hash=row.model_hash,
        sampler=row.sampler,
        steps=row.steps,
        guidance=row.guidance,
        seed=row.seed,
        outputs=tuple(json.loads(row.outputs)),
        inputs=inputs,
        n_samples=row.n_samples,
        joint_mode=row.joint_mode,
        extra=json.loads(row.extra),
    )


def version_record(row: VersionRow) -> VersionRecord:
    return VersionRecord(
        id=row.id,
        asset_id=row.asset_id,
        number=row.number,
        modality=row.modality,
        origin=row.asset.origin,
        content_hash=row.blob_hash,
        size_bytes=row.blob.size,
        format=row.format,
        source_name=row.source_name,
        facts=MediaFacts(
            width=row.width,
            height=row.height,
            fps=row.fps,
            frames=row.frames,
            duration=row.duration,
            sample_rate=row.sample_rate,
            channels=row.channels,
            has_audio=row.has_audio,
        ),
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        deleted=row.deleted_at is not None or row.asset.deleted_at is not None,
        generation_id=row.generation_id,
        sample_index=row.sample_index,
        recipe=recipe_of(row.generation) if row.generation is not None else None,
    )


def asset_record(row: AssetRow, version_count: int, latest_version_id: int | None) -> AssetRecord:
    return AssetRecord(
        id=row.id,
        modality=row.modality,
        name=row.name,
        origin=row.origin,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        deleted=row.deleted_at is not None,
        version_count=version_count,
        latest_version_id=latest_version_id,
    )


def clip_record(row: ClipRow, shown_version_id: int | None) -> ClipRecord:
    return ClipRecord(
        id=row.id,
        track_id=row.track_id,
        start=row.start,
        duration=row.duration,
        in_point=row.in_point,
        weight=row.weight,
        asset_id=row.asset_id,
        version_id=shown_version_id,
        picked_version_id=row.current_version_id,
        text=row.text,
        deleted=row.deleted_at is not None,
    )


def track_record(row: TrackRow, clips: tuple[ClipRecord, ...] = ()) -> TrackRecord:
    return TrackRecord(
        id=row.id,
        kind=row.kind,
        role=row.role,
        position=row.position,
        name=row.name,
        muted=bool(row.muted),
        locked=bool(row.locked),
        clips=clips,
    )


def job_record(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id,
        status=row.status,
        request=json.loads(row.request),
        clip_ids=tuple(json.loads(row.clip_ids)),
        generation_id=row.generation_id,
        error=row.error,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
    )
