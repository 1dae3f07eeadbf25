"""The read paths the studio runs constantly, in Core SQL straight into records.

ORM identity-map loading costs ~0.1 ms per object, too much for a timeline of
a thousand clips or a history page; these queries fetch plain rows (a few
round trips per call, never one per row) and build the records directly.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import Select, String, func, select, text, type_coerce
from sqlalchemy.orm import Session

from codi_studio.store.records import ClipRecord, MediaFacts, Recipe, RecipeInput, VersionRecord
from codi_studio.store.schema import AssetRow, BlobRow, GenerationInputRow, GenerationRow, VersionRow

_V = VersionRow


@lru_cache(maxsize=None)
def version_select() -> Select[Any]:
    """Every column a VersionRecord needs except the recipe, one row per version (build on it with .where)."""
    return (
        select(
            _V.id, _V.asset_id, _V.number, _V.modality, _V.blob_hash, _V.format, _V.source_name,
            _V.width, _V.height, _V.fps, _V.frames, _V.duration, _V.sample_rate, _V.channels, _V.has_audio,
            _V.generation_id, _V.sample_index,
            # raw text, parsed by datetime.fromisoformat: SQLAlchemy's per-row DateTime regex costs more than the query
            type_coerce(_V.created_at, String).label("created_at"),
            (_V.deleted_at.is_not(None) | AssetRow.deleted_at.is_not(None)).label("deleted"),
            BlobRow.size, AssetRow.origin,
        )
        .join(BlobRow, BlobRow.hash == _V.blob_hash)
        .join(AssetRow, AssetRow.id == _V.asset_id)
    )


def recipes_for(s: Session, generation_ids: Iterable[int]) -> dict[int, Recipe]:
    ids = sorted(set(generation_ids))
    if not ids:
        return {}
    # one JSON parameter instead of an IN list of N bound parameters (cheaper to build and to cache)
    wanted = select(func.json_each(json.dumps(ids)).table_valued("value").c.value).scalar_subquery()
    inputs: dict[int, list[RecipeInput]] = defaultdict(list)
    for row in s.execute(
        select(GenerationInputRow.generation_id, GenerationInputRow.modality, GenerationInputRow.weight,
               GenerationInputRow.version_id, GenerationInputRow.text)
        .where(GenerationInputRow.generation_id.in_(wanted))
        .order_by(GenerationInputRow.generation_id, GenerationInputRow.position)
    ):
        inputs[row.generation_id].append(
            RecipeInput(row.modality, row.weight, version_id=row.version_id)
            if row.version_id is not None
            else RecipeInput(row.modality, row.weight, text=row.text)
        )
    recipes: dict[int, Recipe] = {}
    g_ = GenerationRow
    columns = (g_.id, g_.model_id, g_.model_hash, g_.sampler, g_.steps, g_.guidance, g_.seed, g_.outputs, g_.n_samples,
               g_.joint_mode, g_.extra)
    for g in s.execute(select(*columns).where(GenerationRow.id.in_(wanted))):
        recipes[g.id] = Recipe(
            model_id=g.model_id, model_hash=g.model_hash, sampler=g.sampler, steps=g.steps, guidance=g.guidance,
            seed=g.seed, outputs=tuple(json.loads(g.outputs)), inputs=tuple(inputs[g.id]), n_samples=g.n_samples,
            joint_mode=g.joint_mode, extra=json.loads(g.extra),
        )
    return recipes


def version_records(s: Session, query: Select[Any]) -> list[VersionRecord]:
    """Run a `version_select()`-based query; records in the query's order, recipes attached."""
    rows = s.execute(query).all()
    recipes = recipes_for(s, (r.generation_id for r in rows if r.generation_id is not None))
    return [
        VersionRecord(
            id=r.id, asset_id=r.asset_id, number=r.number, modality=r.modality, origin=r.origin,
            content_hash=r.blob_hash, size_bytes=r.size, format=r.format, source_name=r.source_name,
            facts=MediaFacts(width=r.width, height=r.height, fps=r.fps, frames=r.frames, duration=r.duration,
                             sample_rate=r.sample_rate, channels=r.channels, has_audio=r.has_audio),
            created_at=datetime.fromisoformat(r.created_at).replace(tzinfo=timezone.utc),
            deleted=bool(r.deleted),
            generation_id=r.generation_id, sample_index=r.sample_index,
            recipe=recipes.get(r.generation_id) if r.generation_id is not None else None,
        )
        for r in rows
    ]


def clip_records(s: Session, query: Select[Any]) -> list[ClipRecord]:
    """Run a `timeline.clip_select()`-based query."""
    return clip_records_from_rows(s.execute(query))


def clip_records_from_rows(rows: Iterable[Any]) -> list[ClipRecord]:
    """Rows of `timeline.clip_select()` columns -> records."""
    return [
        ClipRecord(clip_id, track_id, start, duration, in_point, weight, asset_id, shown, picked, text_, bool(deleted))
        for clip_id, track_id, asset_id, picked, text_, start, duration, in_point, weight, deleted, shown in rows
    ]


def prompt_matches_newest_first(s: Session, fts: str, page: int) -> Iterable[list[int]]:
    """Generation ids whose prompt matches, newest first, a page at a time.

    FTS5 walks its doclist in rowid order and stops at LIMIT, so the newest
    100 of 20,000 matches cost what 100 do; a plain MATCH would sort them all.
    """
    before = None
    while True:
        sql = "SELECT rowid FROM generations_fts WHERE generations_fts MATCH :q"
        params: dict[str, Any] = {"q": fts, "n": page}
        if before is not None:
            sql += " AND rowid < :before"
            params["before"] = before
        ids = [r[0] for r in s.execute(text(sql + " ORDER BY rowid DESC LIMIT :n"), params)]
        if ids:
            yield ids
        if len(ids) < page:
            return
        before = ids[-1]

