"""Schema versions of a project file and the ordered steps between them.

Why a small ordered runner and not Alembic: a project is a *document*, one
SQLite file per project that travels by mail, not a server database with a
deployment pipeline. Its version lives in the file header (`PRAGMA
user_version`, beside `PRAGMA application_id` which marks the file as ours),
so opening needs no extra table and a file from a newer release is refused
before any table is read. Each step is plain SQL on the raw sqlite3
connection, applied with the version bump in ONE transaction (SQLite DDL is
transactional), so a crash mid-migration leaves the old version intact.
Alembic would add a dependency and a script tree for what is, in SQLite,
mostly `CREATE`/`INSERT ... SELECT` (it must rebuild tables in "batch mode"
for any real ALTER anyway), and its version table would not stop an old
release from misreading a new file.

Steps are frozen history: never edit a released step, add a new one.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

APPLICATION_ID = 0x436F4469  # "CoDi": marks a SQLite file as a CoDi Studio project
SCHEMA_VERSION = 2

_V1 = """
CREATE TABLE project (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    fps FLOAT NOT NULL DEFAULT 24.0
);
CREATE TABLE blobs (
    hash VARCHAR(64) PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    chunk_size INTEGER NOT NULL CHECK (chunk_size > 0),
    created_at DATETIME NOT NULL
);
CREATE TABLE blob_chunks (
    blob_hash VARCHAR(64) NOT NULL REFERENCES blobs(hash) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (blob_hash, idx)
);
CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    modality TEXT NOT NULL CHECK (modality IN ('text', 'image', 'audio', 'video')),
    name TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('import', 'generation', 'input', 'value')),
    created_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE TABLE generations (
    id INTEGER PRIMARY KEY,
    model_id TEXT NOT NULL,
    model_hash TEXT NOT NULL,
    sampler TEXT NOT NULL,
    steps INTEGER NOT NULL,
    guidance FLOAT NOT NULL,
    seed INTEGER NOT NULL,
    outputs TEXT NOT NULL,
    n_samples INTEGER NOT NULL DEFAULT 1,
    joint_mode TEXT,
    prompt TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL
);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets(id),
    number INTEGER NOT NULL,
    modality TEXT NOT NULL CHECK (modality IN ('text', 'image', 'audio', 'video')),
    blob_hash VARCHAR(64) NOT NULL REFERENCES blobs(hash),
    format TEXT NOT NULL,
    source_name TEXT,
    width INTEGER,
    height INTEGER,
    fps FLOAT,
    frames INTEGER,
    duration FLOAT,
    sample_rate INTEGER,
    channels INTEGER,
    has_audio BOOLEAN,
    generation_id INTEGER REFERENCES generations(id),
    sample_index INTEGER,
    created_at DATETIME NOT NULL,
    deleted_at DATETIME,
    UNIQUE (asset_id, number)
);
CREATE INDEX ix_versions_blob ON versions (blob_hash);
CREATE INDEX ix_versions_generation ON versions (generation_id);
CREATE TABLE generation_inputs (
    id INTEGER PRIMARY KEY,
    generation_id INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    modality TEXT NOT NULL,
    weight FLOAT NOT NULL CHECK (weight >= 0),
    version_id INTEGER REFERENCES versions(id),
    text TEXT,
    CHECK (version_id IS NOT NULL OR text IS NOT NULL)
);
CREATE INDEX ix_generation_inputs_generation ON generation_inputs (generation_id);
CREATE INDEX ix_generation_inputs_version ON generation_inputs (version_id);
CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'image', 'audio', 'video')),
    role TEXT NOT NULL CHECK (role IN ('condition', 'output')),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    muted BOOLEAN NOT NULL DEFAULT 0,
    locked BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE clips (
    id INTEGER PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    asset_id INTEGER REFERENCES assets(id),
    current_version_id INTEGER REFERENCES versions(id),
    text TEXT,
    start FLOAT NOT NULL CHECK (start >= 0),
    duration FLOAT NOT NULL CHECK (duration > 0),
    in_point FLOAT NOT NULL DEFAULT 0 CHECK (in_point >= 0),
    weight FLOAT NOT NULL DEFAULT 1.0 CHECK (weight >= 0),
    created_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE INDEX ix_clips_track ON clips (track_id, start);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    request TEXT NOT NULL DEFAULT '{}',
    clip_ids TEXT NOT NULL DEFAULT '[]',
    generation_id INTEGER REFERENCES generations(id),
    error TEXT,
    created_at DATETIME NOT NULL,
    started_at DATETIME,
    finished_at DATETIME
);
CREATE TABLE previews (
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (version_id, kind, size)
);
"""

# v2: prompt search through an FTS5 index (external content: the prompts are
# stored once, in generations), and the indexes the timeline/history/search
# queries need at 100k versions. The index is kept in step by the store's code
# in the same transaction, not by triggers: connections run with
# trusted_schema=OFF, under which SQLite refuses virtual tables in triggers.
_V2 = """
CREATE VIRTUAL TABLE generations_fts USING fts5(
    prompt, content='generations', content_rowid='id', tokenize='unicode61'
);
INSERT INTO generations_fts (rowid, prompt) SELECT id, prompt FROM generations;
CREATE INDEX ix_versions_asset_live ON versions (asset_id, deleted_at, id);
CREATE INDEX ix_versions_modality ON versions (modality, id);
CREATE INDEX ix_generations_seed ON generations (seed);
CREATE INDEX ix_generations_model ON generations (model_id);
CREATE INDEX ix_jobs_status ON jobs (status);
"""

Step = Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Step:
    def run(conn: sqlite3.Connection) -> None:
        # executescript would COMMIT first; run statement by statement inside our transaction
        for statement in _split_sql(sql):
            conn.execute(statement)

    return run


def _split_sql(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies contain ';')."""
    statements: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in migration: {current.strip()[:60]!r}")
    return statements


# STEPS[n] takes a file from version n to version n + 1.
STEPS: dict[int, Step] = {
    0: _script(_V1),
    1: _script(_V2),
}


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the steps from the file's version up to `target`; returns the new version.

    `conn` must be in autocommit mode (isolation_level=None); each step and its
    version bump commit together or not at all.
    """
    if target > SCHEMA_VERSION:
        raise ValueError(f"no schema version {target} (newest is {SCHEMA_VERSION})")
    version = schema_version(conn)
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)  # another process may have migrated meanwhile
            if version >= target:
                conn.execute("ROLLBACK")
                break
            STEPS[version](conn)
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version += 1
    return version
