"""Finding versions again: prompt/modality/seed/model search, the full history, lineage."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from codi_studio.store.convert import VERSION_LOAD, version_record
from codi_studio.store.previews import PreviewOps
from codi_studio.store.prompt_index import fts_query
from codi_studio.store.queries import prompt_matches_newest_first, version_records, version_select
from codi_studio.store.records import LineageInput, LineageNode, VersionRecord
from codi_studio.store.schema import GenerationRow, VersionRow, version_is_live


class HistoryOps(PreviewOps):

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

