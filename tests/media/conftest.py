"""Fixtures for the media tests."""

from pathlib import Path

import pytest
from media_makers import Maker


@pytest.fixture
def make(tmp_path: Path) -> Maker:
    return Maker(tmp_path)
