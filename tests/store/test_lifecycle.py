"""Creating, opening, recognising and refusing project files; one writer at a time."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect as sa_inspect, create_engine

from codi_studio.media import Text
from codi_studio.store import (
    DamagedProjectError,
    NewerSchemaError,
    NotAProjectError,
    Project,
    ProjectLockedError,
    ProjectNotFoundError,
    ReadOnlyError,
    StoreError,
)
from codi_studio.store.migrations import APPLICATION_ID, SCHEMA_VERSION
from codi_studio.store.schema import Base


def test_create_then_reopen_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "a.codi"
    with Project.create(path, name="Storyboard", fps=25) as project:
        track = project.add_track("text")
        project.place_clip(track.id, 1.0, 2.0, text="hello")
    with Project.open(path) as project:
        info = project.info()
        assert (info.name, info.fps, info.schema_version) == ("Storyboard", 25.0, SCHEMA_VERSION)
        [track] = project.timeline()
        assert track.clips[0].text == "hello" and track.clips[0].end == 3.0
    assert not list(tmp_path.glob(".*creating*"))  # no scratch file left behind


def test_file_settings_are_safe(project: Project) -> None:
    conn = sqlite3.connect(project.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
    with project._engine.connect() as conn:  # what every store connection runs with
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_orm_mapping_matches_migrated_schema(project: Project) -> None:
    engine = create_engine(f"sqlite:///{project.path}")
    try:
        inspector = sa_inspect(engine)
        for table in Base.metadata.sorted_tables:
            on_disk = {c["name"] for c in inspector.get_columns(table.name)}
            assert on_disk == set(table.columns.keys()), table.name
    finally:
        engine.dispose()


def test_create_refuses_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "a.codi"
    path.write_text("mine")
    with pytest.raises(StoreError, match="already exists"):
        Project.create(path)
    assert path.read_text() == "mine"


@pytest.mark.parametrize(
    "content, error, message",
    [
        (b"", NotAProjectError, "not an SQLite database"),
        (b"hello, I am a text file" * 10, NotAProjectError, "not an SQLite database"),
    ],
)
def test_not_a_project(tmp_path: Path, content: bytes, error: type, message: str) -> None:
    path = tmp_path / "x.codi"
    path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        Project.open(path)
    assert str(path) in str(info.value)


def test_other_sqlite_database_is_not_a_project(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAProjectError, match="another application"):
        Project.open(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFoundError, match="no such project file"):
        Project.open(tmp_path / "nope.codi")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.codi"
    Project.create(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError, match="newer CoDi Studio"):
        Project.open(path)


def test_damaged_file_gives_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "hurt.codi"
    with Project.create(path) as project:
        project.add_value(Text("lorem ipsum " * 20_000), "long text")  # a few dozen pages of data
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # scribble over every page after the schema
        data[offset : offset + 200] = os.urandom(200)
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedProjectError, match="damaged project file: database disk image is malformed") as info:
        Project.open(path)
    assert info.value.path == str(path)


def test_read_only_refuses_writes_but_reads(tmp_path: Path) -> None:
    path = tmp_path / "a.codi"
    with Project.create(path) as project:
        project.add_track("image")
        with Project.open(path, read_only=True) as viewer:  # allowed while the writer has it open
            assert [t.kind for t in viewer.timeline()] == ["image"]
            with pytest.raises(ReadOnlyError):
                viewer.add_track("audio")


def test_second_writer_in_same_process_is_refused(project: Project) -> None:
    with pytest.raises(ProjectLockedError, match="open elsewhere") as info:
        Project.open(project.path)
    assert f"pid {os.getpid()}" in str(info.value)
    project.close()
    Project.open(project.path).close()  # released on close


HOLDER = textwrap.dedent(
    """
    import sys, time
    from codi_studio.store import Project
    project = Project.open(sys.argv[1])
    print("open", flush=True)
    time.sleep(60)
    """
)


def test_two_processes_second_gets_clear_error_and_killed_holder_frees_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.codi"
    Project.create(path).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(ProjectLockedError, match=f"open elsewhere \\(pid {holder.pid} "):
            Project.open(path)
        with Project.open(path, read_only=True) as viewer:
            assert viewer.info().tracks == 0
    finally:
        holder.kill()  # SIGKILL: no cleanup runs in the holder
        holder.wait()
    with Project.open(path) as project:  # a stale lock never locks the user out
        assert project.check_integrity() == []


def test_closed_project_refuses_use(project: Project) -> None:
    project.close()
    with pytest.raises(StoreError, match="closed"):
        project.info()


def test_create_ignores_a_stale_log_of_a_deleted_project(tmp_path: Path) -> None:
    path = tmp_path / "again.codi"
    with Project.create(path) as project:
        project.add_track("text")
    path.unlink()  # the user deleted the project; pretend its log stayed behind
    Path(f"{path}-wal").write_bytes(os.urandom(4096))
    with Project.create(path) as project:
        assert project.timeline() == [] and project.check_integrity() == []
