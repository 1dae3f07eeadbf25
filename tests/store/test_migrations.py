"""A file written at schema v1 opens in this release, upgraded in place with nothing lost."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from codi_studio.store import Project, StoreError
from codi_studio.store import migrations
from codi_studio.store.migrations import SCHEMA_VERSION, migrate

from store_helpers import make_png

NOW = "2025-01-02 03:04:05.000000"


def write_v1_project(path: Path, picture: bytes) -> None:
    """A project as release 1 wrote it: v1 tables only, rows inserted with v1's columns."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    assert migrate(conn, target=1) == 1
    digest = hashlib.sha256(picture).hexdigest()
    conn.executescript(f"""
        BEGIN;
        INSERT INTO project (id, name, created_at, fps) VALUES (1, 'Old film', '{NOW}', 30);
        INSERT INTO blobs (hash, size, chunk_size, created_at) VALUES ('{digest}', {len(picture)}, 1048576, '{NOW}');
        INSERT INTO assets (id, modality, name, origin, created_at) VALUES (1, 'image', 'photo.png', 'import', '{NOW}');
        INSERT INTO assets (id, modality, name, origin, created_at) VALUES (2, 'image', 'castle', 'generation', '{NOW}');
        INSERT INTO generations (id, model_id, model_hash, sampler, steps, guidance, seed, outputs, prompt, created_at)
            VALUES (1, 'toy-v1', 'sha256:abc', 'ddim', 20, 7.5, 99, '["image"]', 'an old castle', '{NOW}');
        INSERT INTO versions (id, asset_id, number, modality, blob_hash, format, source_name, width, height, created_at)
            VALUES (1, 1, 1, 'image', '{digest}', 'png', 'photo.png', 48, 32, '{NOW}');
        INSERT INTO versions (id, asset_id, number, modality, blob_hash, format, width, height, generation_id, sample_index, created_at)
            VALUES (2, 2, 1, 'image', '{digest}', 'png', 48, 32, 1, 0, '{NOW}');
        INSERT INTO generation_inputs (generation_id, position, modality, weight, text) VALUES (1, 0, 'text', 1.0, 'an old castle');
        INSERT INTO generation_inputs (generation_id, position, modality, weight, version_id) VALUES (1, 1, 'image', 0.5, 1);
        INSERT INTO tracks (id, kind, role, position, name) VALUES (1, 'image', 'output', 0, 'Shots');
        INSERT INTO clips (id, track_id, asset_id, current_version_id, start, duration, created_at)
            VALUES (1, 1, 2, 2, 1.5, 2.0, '{NOW}');
        INSERT INTO jobs (status, created_at) VALUES ('running', '{NOW}');
        COMMIT;
    """)
    conn.execute("INSERT INTO blob_chunks (blob_hash, idx, data) VALUES (?, 0, ?)", (digest, picture))
    conn.close()


def test_v1_file_is_upgraded_and_keeps_everything(tmp_path: Path) -> None:
    picture = make_png(tmp_path / "photo.png").read_bytes()
    path = tmp_path / "old.codi"
    write_v1_project(path, picture)
    with pytest.raises(StoreError, match="older than"):
        Project.open(path, read_only=True)  # read-only cannot upgrade: says how to fix it
    with Project.open(path) as project:
        info = project.info()
        assert (info.name, info.fps, info.schema_version, info.versions) == ("Old film", 30.0, SCHEMA_VERSION, 2)
        [track] = project.timeline()
        assert [(c.start, c.version_id) for c in track.clips] == [(1.5, 2)]
        assert [v.id for v in project.search_versions("castle")] == [2]  # the v2 prompt index was backfilled
        assert project.lineage(2).ancestors() == [1]
        assert project.read_bytes(1) == picture
        assert project.jobs()[0].status == "failed"
        assert project.check_integrity() == []
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_failed_migration_leaves_the_old_version_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.codi"
    write_v1_project(path, make_png(tmp_path / "photo.png").read_bytes())
    real_step = migrations.STEPS[1]

    def step_that_dies_half_way(conn: sqlite3.Connection) -> None:
        real_step(conn)  # all of v2's DDL runs...
        raise RuntimeError("power cut")  # ...then the process "dies" before the commit

    monkeypatch.setitem(migrations.STEPS, 1, step_that_dies_half_way)
    with pytest.raises(RuntimeError, match="power cut"):
        Project.open(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "generations_fts" not in tables
    finally:
        conn.close()
    monkeypatch.setitem(migrations.STEPS, 1, real_step)
    with Project.open(path) as project:  # and the next try succeeds
        assert project.info().schema_version == SCHEMA_VERSION
