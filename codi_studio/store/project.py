"""`Project`: the one API for a project file, shared by the CLI, the studio and the generation service."""

from __future__ import annotations

import os
from pathlib import Path

from codi_studio.store.exchange import ExchangeOps, import_bundle


class Project(ExchangeOps):
    """An open `*.codi` project file.

    Open with `Project.create(path)` / `Project.open(path, read_only=False)`,
    close with `close()` or a `with` block. Each method is one transaction and
    returns plain records (codi_studio.store.records), never ORM objects.
    The operations are grouped by module, each a mixin on the one before:
    base.py (open, close, transactions, info), timeline.py (tracks, clips),
    versions.py (imports, versions, reading, exporting one, deleting),
    previews.py (thumbnails, waveforms), history.py (search, history, lineage),
    purge.py, generations.py (recording generations, jobs), exchange.py
    (bundles, OpenTimelineIO).
    """

    @staticmethod
    def import_bundle(bundle: str | os.PathLike[str], dest: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Unpack a bundle made by `export_bundle` into the project file `dest` (not opened)."""
        return import_bundle(bundle, dest, overwrite=overwrite)
