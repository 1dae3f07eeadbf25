"""Where the first-run sample project lives, built on demand by resources/sample_project.py."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import platformdirs

import codi_studio

RESOURCES = Path(codi_studio.__file__).resolve().parents[1] / "resources"
SAMPLE_NAME = "CoDi Sample.codi"


def resources_dir() -> Path:
    return Path(os.environ.get("CODI_STUDIO_RESOURCES", RESOURCES))


def sample_project_path(folder: Path | None = None) -> Path:
    """The sample project in the user's data folder, built the first time it is asked for."""
    folder = folder or Path(platformdirs.user_data_dir("codi-studio")) / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / SAMPLE_NAME
    if not target.exists():
        build_sample(target)
    return target


def build_sample(target: Path) -> Path:
    script = resources_dir() / "sample_project.py"
    if not script.is_file():
        raise FileNotFoundError(f"{script}: the sample project script is missing from this installation")
    spec = importlib.util.spec_from_file_location("codi_studio_sample_project", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_sample_project(target)
