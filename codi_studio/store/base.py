"""The project's lifecycle: create, open (checks, lock, migrations), transactions, close."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, TypeVar

from sqlalchemy import Engine, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from codi_studio.store import blobs
from codi_studio.store.blobs import utcnow
from codi_studio.store.convert import aware
from codi_studio.store.database import connect_raw, inspect_file, make_engine, remove_orphan_journals
from codi_studio.store.errors import (
    DamagedProjectError,
    ProjectLockedError,
    ReadOnlyError,
    StoreError,
)
from codi_studio.store.lock import ProcessLock, lock_path_for
from codi_studio.store.migrations import SCHEMA_VERSION, migrate
from codi_studio.store.records import ProjectInfo
from codi_studio.store.schema import (
    AssetRow,
    ClipRow,
    GenerationRow,
    JobRow,
    ProjectRow,
    TrackRow,
    VersionRow,
    version_is_live,
)

P = TypeVar("P", bound="ProjectBase")

INTERRUPTED = "interrupted: the process running this job stopped before it finished"


def _damage_message(exc: BaseException) -> str | None:
    text = str(getattr(exc, "orig", exc))
    markers = ("malformed", "not a database", "disk image", "file is encrypted", "database corrupt")
    return text if any(m in text.lower() for m in markers) else None


class ProjectBase:
    """Holds the engine and the writer lock; every operation is one transaction."""

    def __init__(self, path: Path, engine: Engine, lock: ProcessLock | None, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._engine = engine
        self._write_engine = engine.execution_options(write=True)
        self._lock = lock
        self._closed = False

    # --- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def create(cls: type[P], path: str | os.PathLike[str], name: str | None = None, fps: float = 24.0) -> P:
        """Make a new, empty project file and open it for writing.

        The file is built under a temporary name and renamed into place, so a
        crash during creation never leaves a half-made project at `path`.
        """
        target = Path(path).absolute()
        if target.exists():
            raise StoreError(target, "already exists (open it, or choose another name)")
        if not target.parent.is_dir():
            raise StoreError(target, "the folder does not exist")
        if fps <= 0:
            raise StoreError(target, f"fps must be positive, got {fps}")
        scratch = target.with_name(f".{target.name}.creating-{os.getpid()}")
        try:
            conn = connect_raw(scratch)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                migrate(conn)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO project (id, name, created_at, fps) VALUES (1, ?, ?, ?)",
                    (name or target.stem, utcnow().isoformat(sep=" "), float(fps)),
                )
                conn.execute("COMMIT")
            finally:
                conn.close()  # the last connection checkpoints and removes the WAL
            if target.exists():
                raise StoreError(target, "already exists (created meanwhile by another process)")
            remove_orphan_journals(target)
            os.replace(scratch, target)
        finally:
            for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
                leftover.unlink(missing_ok=True)
        return cls.open(target)

    @classmethod
    def open(cls: type[P], path: str | os.PathLike[str], read_only: bool = False) -> P:
        """Open a project; for writing unless `read_only`.

        Raises ProjectNotFoundError, NotAProjectError, NewerSchemaError,
        DamagedProjectError, or ProjectLockedError when another process has it
        open for writing (read-only opening is always possible).
        """
        target = Path(path).absolute()
        version = inspect_file(target, read_only)
        lock: ProcessLock | None = None
        if not read_only:
            lock = ProcessLock(lock_path_for(target))
            try:
                acquired = lock.try_acquire()
            except OSError as exc:
                raise StoreError(target, f"cannot create the lock file ({exc.strerror}); open it read-only") from exc
            if not acquired:
                raise ProjectLockedError(
                    target, f"project is open elsewhere ({lock.holder()}); close it there or open it read-only"
                )
        try:
            if read_only and version < SCHEMA_VERSION:
                raise StoreError(target, f"schema {version} is older than {SCHEMA_VERSION}; open it once for writing to upgrade")
            if not read_only:
                cls._prepare_for_writing(target)
            engine = make_engine(target, read_only)
            project = cls(target, engine, lock, read_only)
            try:
                with project._read() as session:
                    if session.get(ProjectRow, 1) is None:
                        raise DamagedProjectError(target, "damaged project file: the project row is missing")
            except BaseException:
                engine.dispose()
                raise
            return project
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    @staticmethod
    def _prepare_for_writing(path: Path) -> None:
        """WAL mode, pending migrations, and jobs a killed process left 'running' marked failed."""
        try:
            conn = connect_raw(path)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                migrate(conn)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE status = 'running'",
                    (INTERRUPTED, utcnow().isoformat(sep=" ")),
                )
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise DamagedProjectError(path, f"damaged project file: {exc}") from exc

    def close(self) -> None:
        """Close the file (checkpointing the WAL into it) and drop the writer lock."""
        if self._closed:
            return
        self._closed = True
        self._engine.dispose()
        if self._lock is not None:
            self._lock.release()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self: P) -> P:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close must not keep the lock for the process lifetime
        try:
            self.close()
        except Exception:
            pass

    # --- transactions --------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read transaction: a consistent snapshot of the file."""
        with self._session(self._engine) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error)."""
        if self.read_only:
            raise ReadOnlyError(self.path, "project is open read-only")
        with self._session(self._write_engine) as session:
            yield session

    @contextmanager
    def _session(self, engine: Engine) -> Iterator[Session]:
        if self._closed:
            raise StoreError(self.path, "project is closed")
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                yield session
        except (sa_exc.DatabaseError, sqlite3.DatabaseError) as exc:
            damage = _damage_message(exc)
            if damage is not None:
                raise DamagedProjectError(self.path, f"damaged project file: {damage}") from exc
            raise

    # --- facts ---------------------------------------------------------------------------------

    def info(self) -> ProjectInfo:
        with self._read() as s:
            row = s.get(ProjectRow, 1)
            assert row is not None
            n_blobs, media_bytes = blobs.total_bytes(s)
            return ProjectInfo(
                path=str(self.path),
                name=row.name,
                created_at=aware(row.created_at),  # type: ignore[arg-type]
                schema_version=SCHEMA_VERSION,
                read_only=self.read_only,
                fps=row.fps,
                tracks=_count(s, select(func.count()).select_from(TrackRow)),
                clips=_count(s, select(func.count()).where(ClipRow.deleted_at.is_(None))),
                assets=_count(s, select(func.count()).where(AssetRow.deleted_at.is_(None))),
                versions=_count(s, select(func.count()).select_from(VersionRow).where(version_is_live())),
                generations=_count(s, select(func.count()).select_from(GenerationRow)),
                jobs=_count(s, select(func.count()).select_from(JobRow)),
                blobs=n_blobs,
                media_bytes=media_bytes,
                file_bytes=self.disk_bytes(),
            )

    def disk_bytes(self) -> int:
        """Bytes on disk: the file plus its write-ahead log (folded in at close or checkpoint)."""
        wal = Path(f"{self.path}-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def rename(self, name: str) -> None:
        if not name.strip():
            raise StoreError(self.path, "a project name must not be empty")
        with self._write() as s:
            s.execute(update(ProjectRow).where(ProjectRow.id == 1).values(name=name.strip()))

    def check_integrity(self, media: bool = True) -> list[str]:
        """Problems found ([] when healthy): SQLite's integrity_check, foreign keys, and each medium's hash."""
        problems: list[str] = []
        conn = connect_raw(self.path, read_only=True)
        try:
            problems += [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
            problems += [f"broken reference in {r[0]} row {r[1]}" for r in conn.execute("PRAGMA foreign_key_check")]
        except sqlite3.DatabaseError as exc:
            return [f"damaged project file: {exc}"]
        finally:
            conn.close()
        if media and not problems:
            with self._read() as s:
                for content_hash in s.scalars(select(blobs.BlobRow.hash)).all():
                    try:
                        blobs.copy_to(s, content_hash, _NullSink())  # type: ignore[arg-type]
                    except ValueError as exc:
                        problems.append(str(exc))
        return problems


def _count(s: Session, query: Any) -> int:
    return int(s.scalar(query) or 0)


class _NullSink:
    def write(self, data: bytes) -> int:
        return len(data)
