"""Store fixtures: a real project file in a tmp dir."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from codi_studio.store import Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.create(tmp_path / "film.codi") as opened:
        yield opened
