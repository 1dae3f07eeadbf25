"""Recording a finished generation into a project file, with its lineage.

Shared by `codi-studio generate --project` and anything else that generates
outside the studio: inputs go in as media values (stored, deduplicated), the
outputs as new versions, the recipe as plain data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from codi_studio.media.values import Text
from codi_studio.service.requests import GenerationRequest, GenerationResult
from codi_studio.store import Project, Recipe, RecipeInput


def recipe_for(request: GenerationRequest, result: GenerationResult, *,
               inputs: Sequence[RecipeInput] | None = None, n_samples: int | None = None,
               extra: Mapping[str, Any] | None = None) -> Recipe:
    """The store's recipe of a finished request: inputs as media values unless the caller
    already knows their stored versions (the studio does)."""
    if inputs is None:
        inputs = tuple(
            RecipeInput(c.value.modality.value, c.weight, text=c.value.text)
            if isinstance(c.value, Text)
            else RecipeInput(c.value.modality.value, c.weight, value=c.value)
            for c in request.conditions
        )
    if extra is None:
        extra = {"timings": dict(result.timings), "sources": [c.source for c in request.conditions if c.source]}
    return Recipe(
        model_id=result.model_id,
        model_hash=result.model_hash,
        sampler=request.sampler,
        steps=request.steps,
        guidance=request.guidance,
        seed=request.seed,
        outputs=tuple(m.value for m in request.outputs),
        inputs=tuple(inputs),
        n_samples=request.n_samples if n_samples is None else n_samples,
        joint_mode=request.joint_mode,
        extra=extra,
    )


def record_generation(project_path: Path, request: GenerationRequest, result: GenerationResult) -> list[int]:
    """Record into `project_path` (created if missing); returns the new version ids."""
    path = Path(project_path)
    project = Project.open(path) if path.exists() else Project.create(path)
    with project:
        record = project.record_generation(recipe_for(request, result), list(result.samples))
    return [v.id for v in record.versions]
