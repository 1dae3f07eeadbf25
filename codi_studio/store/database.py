"""Opening a project file safely: recognise it, refuse what is not ours, configure SQLite.

Every connection runs with foreign keys on, synchronous=FULL (a returned
commit survives even a power cut, not just a killed process), a busy timeout,
and trusted_schema off (a hostile file's views/triggers cannot call
side-effecting functions). The file is in WAL mode, so readers never block
the writer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.request import pathname2url

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from codi_studio.store.errors import (
    DamagedProjectError,
    NewerSchemaError,
    NotAProjectError,
    ProjectNotFoundError,
)
from codi_studio.store.migrations import APPLICATION_ID, SCHEMA_VERSION

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


def connect_raw(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A configured sqlite3 connection in autocommit mode (we issue BEGIN ourselves)."""
    if read_only:
        conn = sqlite3.connect(f"file:{pathname2url(str(path))}?mode=ro", uri=True, check_same_thread=False,
                               isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def inspect_file(path: Path, read_only: bool = False) -> int:
    """Check that `path` is a project this release can open; returns its schema version.

    Raises ProjectNotFoundError, NotAProjectError, NewerSchemaError or
    DamagedProjectError, each naming the file.
    """
    if not path.exists():
        raise ProjectNotFoundError(path, "no such project file")
    if not path.is_file():
        raise NotAProjectError(path, "not a file")
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        raise NotAProjectError(path, "not a CoDi Studio project (not an SQLite database)")
    # ask SQLite, not the header bytes: a committed migration may still sit in the WAL
    try:
        conn = connect_raw(path, read_only)
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DamagedProjectError(path, f"damaged project file: {exc}") from exc
    if app_id != APPLICATION_ID:
        raise NotAProjectError(path, "not a CoDi Studio project (an SQLite database of another application)")
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            path, f"written by a newer CoDi Studio (schema {version}; this release reads up to {SCHEMA_VERSION})"
        )
    if version < 1:
        raise DamagedProjectError(path, "project file has no schema (creation never finished)")
    return version


def quick_check(conn: sqlite3.Connection, path: Path, full: bool = False) -> None:
    """Raise DamagedProjectError unless SQLite's integrity check says ok."""
    try:
        rows = conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise DamagedProjectError(path, f"damaged project file: {exc}") from exc
    problems = [r[0] for r in rows if r[0] != "ok"]
    if problems:
        raise DamagedProjectError(path, f"damaged project file: {'; '.join(problems[:3])}")


def make_engine(path: Path, read_only: bool) -> Engine:
    """A SQLAlchemy engine whose connections are configured by `connect_raw`.

    Transactions started with execution option write=True begin IMMEDIATE, so a
    writer takes the write lock up front instead of failing half-way.
    """
    engine = create_engine(
        "sqlite+pysqlite://",
        creator=lambda: connect_raw(path, read_only),
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


def remove_orphan_journals(path: Path) -> None:
    """Delete `path`-wal / -shm left without their database (a deleted or replaced project).

    SQLite would replay a stale WAL onto whatever file next has this name.
    Only call while holding the project's lock or when `path` does not exist.
    """
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
