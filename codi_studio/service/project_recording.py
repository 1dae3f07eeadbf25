"""Recording a finished generation into a project file, with its lineage.

Shared by `codi-studio generate --project` and anything else that generates
outside the studio: inputs go in as media values (stored, deduplicated), the
outputs as new versions, the recipe as plain data.
"""

from __future__ import annotations

from pathlib import Path

from codi_studio.media.values import Text
from codi_studio.service.requests import GenerationRequest, GenerationResult
from codi_studio.store import Project, Recipe, RecipeInput


def recipe_for(request: GenerationRequest, result: GenerationResult) -> Recipe:
    inputs = tuple(
        RecipeInput(c.value.modality.value, c.weight, text=c.value.text)
        if isinstance(c.value, Text)
        else RecipeInput(c.value.modality.value, c.weight, value=c.value)
        for c in request.conditions
    )
    return Recipe(
        model_id=result.model_id,
        model_hash=result.model_hash,
        sampler=request.sampler,
        steps=request.steps,
        guidance=request.guidance,
        seed=request.seed,
        outputs=tuple(m.value for m in request.outputs),
        inputs=inputs,
        n_samples=request.n_samples,
        joint_mode=request.joint_mode,
        extra={"timings": dict(result.timings),
               "sources": [c.source for c in request.conditions if c.source]},
    )


def record_generation(project_path: Path, request: GenerationRequest, result: GenerationResult) -> list[int]:
    """Record into `project_path` (created if missing); returns the new version ids."""
    path = Path(project_path)
    project = Project.open(path) if path.exists() else Project.create(path)
    with project:
        record = project.record_generation(recipe_for(request, result), list(result.samples))
    return [v.id for v in record.versions]
