"""The project store: one SQLite file per project (`*.codi`), media inside, every result traceable.

No Qt and no torch here. Use `Project`; everything it returns is a plain record.
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
