"""The store's errors: each names the project file and says what is wrong."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of every store error; `path` is the project (or bundle) file concerned."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class ProjectNotFoundError(StoreError):
    """There is no file at the given path."""


class NotAProjectError(StoreError):
    """The file exists but is not a CoDi Studio project (or bundle)."""


class NewerSchemaError(StoreError):
    """The project was written by a newer CoDi Studio; upgrading is the only fix."""


class DamagedProjectError(StoreError):
    """SQLite reports the file as damaged (malformed, truncated, failed integrity check)."""


class ProjectLockedError(StoreError):
    """Another process holds the project open for writing."""


class ReadOnlyError(StoreError):
    """A write was attempted on a project opened read-only."""


class NotFoundError(StoreError):
    """A track, clip, asset, version or job id that does not exist (or is deleted)."""


class InvalidOperationError(StoreError):
    """The operation does not make sense for this object (locked track, wrong modality, bad time...)."""


class BundleError(StoreError):
    """A project bundle is malformed or hostile (paths escaping the target folder, missing manifest...)."""
