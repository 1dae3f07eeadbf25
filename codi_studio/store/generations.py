"""Recording generations (the recipe and its outputs as new versions) and the job queue."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from codi_studio.media.values import MediaValue, Modality, Text
from codi_studio.store import blobs, codec
from codi_studio.store.blobs import utcnow
from codi_studio.store.convert import VERSION_LOAD, job_record, recipe_of, version_record, aware
from codi_studio.store.errors import InvalidOperationError, NotFoundError
from codi_studio.store.records import JOB_STATES, GenerationRecord, JobRecord, Recipe, RecipeInput, modality_name
from codi_studio.store.prompt_index import add_to_prompt_index
from codi_studio.store.schema import GenerationInputRow, GenerationRow, JobRow, TrackRow, VersionRow
from codi_studio.store.purge import PurgeOps

Sample = Mapping[Modality | str, MediaValue]


class GenerationOps(PurgeOps):
    def record_generation(
        self,
        recipe: Recipe,
        samples: Sequence[Sample] | Sample,
        *,
        clip_ids: Sequence[int] = (),
        asset_ids: Mapping[str, int] | None = None,
        job_id: int | None = None,
        name: str | None = None,
    ) -> GenerationRecord:
        """Store a finished generation: its recipe, its inputs, and every output as a new version.

        `samples` is what the model returned: one mapping modality -> media
        value per sample (GenerationResult.samples), or a single mapping.
        Outputs of one modality become versions of one asset: the asset shown
        by the output clip of that modality among `clip_ids` (that clip then
        shows the first new sample), else `asset_ids[modality]`, else a new
        asset named `name` (default: the prompt). Inputs given as media values
        are stored too (deduplicated), so lineage always reaches stored media.
        With `job_id`, that job is marked done in the same transaction.
        """
        sample_list = [samples] if isinstance(samples, Mapping) else list(samples)
        if not sample_list:
            raise InvalidOperationError(self.path, "a generation needs at least one sample")
        outputs: list[dict[str, MediaValue]] = []
        for index, sample in enumerate(sample_list):
            normalized = {modality_name(k): v for k, v in sample.items()}
            for modality, value in normalized.items():
                if modality not in recipe.outputs:
                    raise InvalidOperationError(self.path, f"sample {index} has {modality}, not an output of the recipe")
                if value.modality.value != modality:
                    raise InvalidOperationError(self.path, f"sample {index}: a {value.modality.value} value under {modality}")
            outputs.append(normalized)
        # encode before taking the write lock: video encoding is slow, the lock should not be held for it
        metadata = {"codi-studio": json.dumps(recipe.to_dict())}
        encoded = [{m: codec.encode(v, metadata) + (codec.facts_of(v),) for m, v in o.items()} for o in outputs]
        input_media = [
            codec.encode(i.value) + (codec.facts_of(i.value),) if i.value is not None and not isinstance(i.value, Text) else None
            for i in recipe.inputs
        ]
        with self._write() as s:
            generation = GenerationRow(
                model_id=recipe.model_id,
                model_hash=recipe.model_hash,
                sampler=recipe.sampler,
                steps=recipe.steps,
                guidance=recipe.guidance,
                seed=recipe.seed,
                outputs=json.dumps(list(recipe.outputs)),
                n_samples=recipe.n_samples,
                joint_mode=recipe.joint_mode,
                prompt=recipe.prompt_text(),
                extra=json.dumps(dict(recipe.extra)),
                created_at=utcnow(),
            )
            s.add(generation)
            s.flush()
            add_to_prompt_index(s, generation.id, generation.prompt)
            texts: list[str] = []
            for position, (inp, media) in enumerate(zip(recipe.inputs, input_media)):
                version_id, text = self._resolve_input(s, inp, media)
                if text is not None:
                    texts.append(text)
                s.add(
                    GenerationInputRow(
                        generation_id=generation.id,
                        position=position,
                        modality=inp.modality,
                        weight=inp.weight,
                        version_id=version_id,
                        text=text,
                    )
                )
            targets = self._output_targets(s, recipe, clip_ids, asset_ids or {}, name or (texts[0][:60] if texts else None))
            new_rows: list[VersionRow] = []
            first_of: dict[str, int] = {}
            for index, sample in enumerate(encoded):
                for modality, (data, fmt, facts) in sample.items():
                    content_hash = blobs.put_bytes(s, data)
                    asset = targets[modality]
                    row = self._new_version(
                        s, asset, modality, content_hash, fmt, facts, generation_id=generation.id, sample_index=index
                    )
                    new_rows.append(row)
                    first_of.setdefault(modality, row.id)
            for clip_id in clip_ids:
                clip = self._clip_row(s, clip_id)
                modality = s.get(TrackRow, clip.track_id).kind  # type: ignore[union-attr]
                if modality in first_of:
                    clip.asset_id = targets[modality].id
                    clip.current_version_id = first_of[modality]
            if job_id is not None:
                job = self._job_row(s, job_id)
                self._transition(job, "done")
                job.generation_id = generation.id
            s.flush()
            s.refresh(generation, ["inputs"])
            rows = s.scalars(select(VersionRow).where(VersionRow.generation_id == generation.id)
                             .order_by(VersionRow.id).options(*VERSION_LOAD)).all()
            return GenerationRecord(
                id=generation.id,
                recipe=recipe_of(generation),
                created_at=aware(generation.created_at),  # type: ignore[arg-type]
                versions=tuple(version_record(r) for r in rows),
            )

    def generation(self, generation_id: int) -> GenerationRecord:
        with self._read() as s:
            row = s.get(GenerationRow, generation_id)
            if row is None:
                raise NotFoundError(self.path, f"no generation {generation_id}")
            rows = s.scalars(select(VersionRow).where(VersionRow.generation_id == generation_id)
                             .order_by(VersionRow.id).options(*VERSION_LOAD)).all()
            return GenerationRecord(id=row.id, recipe=recipe_of(row), created_at=aware(row.created_at),  # type: ignore[arg-type]
                                    versions=tuple(version_record(r) for r in rows))

    def _resolve_input(
        self, s: Session, inp: RecipeInput, media: tuple[bytes, str, Any] | None
    ) -> tuple[int | None, str | None]:
        """(version id, inline text) for one input, storing a media value input if needed."""
        if inp.version_id is not None:
            version = self._version_row(s, inp.version_id, live=False)
            if version.modality != inp.modality:
                raise InvalidOperationError(self.path, f"input version {inp.version_id} is {version.modality}, not {inp.modality}")
            return version.id, None
        if inp.text is not None:
            return None, inp.text
        if isinstance(inp.value, Text):
            return None, inp.value.text
        assert media is not None
        data, fmt, facts = media
        content_hash = blobs.put_bytes(s, data)
        existing = s.scalars(
            select(VersionRow.id)
            .where(VersionRow.blob_hash == content_hash, VersionRow.modality == inp.modality)
            .order_by(VersionRow.id)
            .limit(1)
        ).first()
        if existing is not None:  # this exact medium is already stored: link to it
            return existing, None
        asset = self._new_asset(s, inp.modality, f"{inp.modality} input", "input")
        return self._new_version(s, asset, inp.modality, content_hash, fmt, facts).id, None

    def _output_targets(
        self, s: Session, recipe: Recipe, clip_ids: Sequence[int], asset_ids: Mapping[str, int], name: str | None
    ) -> dict[str, Any]:
        targets: dict[str, Any] = {}
        for clip_id in clip_ids:
            clip = self._clip_row(s, clip_id)
            track = s.get(TrackRow, clip.track_id)
            assert track is not None
            self._check_unlocked(track)
            if track.role != "output":
                raise InvalidOperationError(self.path, f"clip {clip_id} is on a condition track; results go to output tracks")
            if track.kind not in recipe.outputs:
                raise InvalidOperationError(self.path, f"clip {clip_id} is on a {track.kind} track, not an output of the recipe")
            if clip.asset_id is not None:
                targets[track.kind] = self._asset_row(s, clip.asset_id)
        for modality, asset_id in asset_ids.items():
            modality = modality_name(modality)
            asset = self._asset_row(s, asset_id)
            if asset.modality != modality:
                raise InvalidOperationError(self.path, f"asset {asset_id} holds {asset.modality}, not {modality}")
            targets.setdefault(modality, asset)
        for modality in recipe.outputs:
            if modality not in targets:
                targets[modality] = self._new_asset(s, modality, name or f"generated {modality}", "generation")
        return targets

    # --- jobs ----------------------------------------------------------------------------------

    def create_job(self, request: Mapping[str, Any], clip_ids: Sequence[int] = ()) -> JobRecord:
        """Queue a job; `request` is the generation request as plain JSON-able data."""
        try:
            request_json = json.dumps(dict(request))
        except TypeError as exc:
            raise InvalidOperationError(self.path, f"a job request must be plain JSON data: {exc}") from None
        with self._write() as s:
            row = JobRow(status="queued", request=request_json, clip_ids=json.dumps([int(c) for c in clip_ids]),
                         created_at=utcnow())
            s.add(row)
            s.flush()
            return job_record(row)

    def start_job(self, job_id: int) -> JobRecord:
        return self._set_job(job_id, "running")

    def finish_job(self, job_id: int, generation_id: int | None = None) -> JobRecord:
        return self._set_job(job_id, "done", generation_id=generation_id)

    def fail_job(self, job_id: int, error: str) -> JobRecord:
        return self._set_job(job_id, "failed", error=error)

    def cancel_job(self, job_id: int) -> JobRecord:
        return self._set_job(job_id, "cancelled")

    def job(self, job_id: int) -> JobRecord:
        with self._read() as s:
            return job_record(self._job_row(s, job_id))

    def jobs(self, status: str | None = None) -> list[JobRecord]:
        with self._read() as s:
            query = select(JobRow).order_by(JobRow.id)
            if status is not None:
                if status not in JOB_STATES:
                    raise InvalidOperationError(self.path, f"unknown job status {status!r}")
                query = query.where(JobRow.status == status)
            return [job_record(r) for r in s.scalars(query).all()]

    def _set_job(self, job_id: int, status: str, *, error: str | None = None, generation_id: int | None = None) -> JobRecord:
        with self._write() as s:
            row = self._job_row(s, job_id)
            self._transition(row, status)
            if error is not None:
                row.error = error
            if generation_id is not None:
                if s.get(GenerationRow, generation_id) is None:
                    raise NotFoundError(self.path, f"no generation {generation_id}")
                row.generation_id = generation_id
            return job_record(row)

    _ALLOWED = {"queued": {"running", "cancelled", "failed", "done"}, "running": {"done", "failed", "cancelled"}}

    def _transition(self, row: JobRow, status: str) -> None:
        if status not in self._ALLOWED.get(row.status, set()):
            raise InvalidOperationError(self.path, f"job {row.id} is {row.status}; it cannot become {status}")
        row.status = status
        now = utcnow()
        if status == "running":
            row.started_at = now
        else:
            row.finished_at = now

    def _job_row(self, s: Session, job_id: int) -> JobRow:
        row = s.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(self.path, f"no job {job_id}")
        return row

