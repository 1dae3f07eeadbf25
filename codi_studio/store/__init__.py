"""The project store: one SQLite file per project (`*.codi`), media inside, every result traceable.

No Qt and no torch here. Use `Project`; everything it returns is a plain,
frozen record (records.py). Each method is one transaction; a Project may be
shared by threads (e.g. the studio's UI thread and its generation worker).

    project = Project.create("film.codi", name=None, fps=24.0)  # or Project.open(path, read_only=False)
    v = project.import_media("cat.png")                 # VersionRecord (deduplicated by content)
    v = project.add_value(media_value, "name", asset_id=None)
    t = project.add_track("image", "condition")         # kind: text/image/audio/video; role: condition/output
    c = project.place_clip(t.id, start, duration=None, version_id=v.id | asset_id=... | text="...", weight=1.0)
    project.move_clip(c.id, start=..., track_id=...); project.trim_clip(c.id, start=, duration=, in_point=)
    project.set_clip_weight / set_clip_text / remove_clip / restore_clip / update_track(muted=, locked=)
    project.timeline()                                  # [TrackRecord(clips=(ClipRecord(version_id=shown)...))]
    g = project.record_generation(Recipe(model_id, model_hash, sampler, steps, guidance, seed, outputs,
                                         inputs=(RecipeInput(modality, weight, version_id=|text=|value=),)),
                                  samples=[{Modality.IMAGE: Image}, ...], clip_ids=[output clip ids], job_id=None)
    project.versions(clip_id=c.id); project.set_current_version(c.id, v.id); project.diff_recipes(a, b)
    project.lineage(v.id).ancestors(); project.search_versions("red ball", modality=, seed=, model=)
    project.read_media(v.id) -> MediaValue; project.thumbnail(v.id, 128); project.waveform(v.id, 256)
    project.export_version(v.id, path); project.export_bundle(zip); import_bundle(zip, dest); project.export_otio(p)
    project.delete_version / delete_asset / restore_*; project.purge() -> PurgeReport
    project.create_job(request_dict, clip_ids) / start_job / fail_job(id, error) / cancel_job / jobs()
    project.close()                                     # or `with Project.open(...) as project:`

Errors are StoreError subclasses naming the file (ProjectLockedError when
another process has it open for writing; open read_only=True instead).
"""

from codi_studio.store.errors import (
    BundleError,
    DamagedProjectError,
    InvalidOperationError,
    NewerSchemaError,
    NotAProjectError,
    NotFoundError,
    ProjectLockedError,
    ProjectNotFoundError,
    ReadOnlyError,
    StoreError,
)
from codi_studio.store.exchange import import_bundle
from codi_studio.store.migrations import SCHEMA_VERSION
from codi_studio.store.project import Project
from codi_studio.store.records import (
    AssetRecord,
    ClipRecord,
    GenerationRecord,
    JobRecord,
    LineageInput,
    LineageNode,
    MediaFacts,
    ProjectInfo,
    PurgeReport,
    Recipe,
    RecipeInput,
    TrackRecord,
    VersionRecord,
)

__all__ = [
    "AssetRecord", "BundleError", "ClipRecord", "DamagedProjectError", "GenerationRecord", "InvalidOperationError",
    "JobRecord", "LineageInput", "LineageNode", "MediaFacts", "NewerSchemaError", "NotAProjectError", "NotFoundError",
    "Project", "ProjectInfo", "ProjectLockedError", "ProjectNotFoundError", "PurgeReport", "ReadOnlyError", "Recipe",
    "RecipeInput", "SCHEMA_VERSION", "StoreError", "TrackRecord", "VersionRecord", "import_bundle",
]
