"""Fixtures for the studio tests: real media files, real project files, a real window.

Settings go to an ini file in the test's tmp folder, so a test never reads or
changes the user's studio settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from codi_studio.media import write_mp4, write_png, write_text, write_wav
from codi_studio.media.values import Audio, Image, Text, Video

REPO = Path(__file__).resolve().parents[2]
EMBEDDED = REPO / "models"


@pytest.fixture()
def media_files(tmp_path: Path) -> dict[str, Path]:
    """One real file per modality, written by the media layer."""
    rng = np.random.default_rng(5)
    folder = tmp_path / "media"
    folder.mkdir()
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[..., 2] = 200
    picture[10:30, 20:40] = (220, 50, 50)
    t = np.arange(16000) / 16000.0
    tone = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frames = rng.integers(0, 255, (12, 48, 64, 3), dtype=np.uint8)
    return {
        "image": write_png(folder / "red square.png", Image(picture)),
        "audio": write_wav(folder / "tone.wav", Audio(tone[:, None], 16000)),
        "video": write_mp4(folder / "noise.mp4", Video(frames, 12.0, Audio(tone[:, None], 16000))),
        "text": write_text(folder / "caption.txt", Text("a red circle moving left in daylight")),
    }


@pytest.fixture()
def settings(tmp_path: Path):
    from PySide6.QtCore import QSettings

    from codi_studio.studio.settings import StudioSettings

    return StudioSettings(QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat))


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded toy model when it is built, else a tiny CoDi of the same architecture.

    Both run through the real GenerationService and pipeline; the tiny one has
    random weights, which is all these tests need (they check the studio's
    plumbing, not picture quality).
    """
    embedded = EMBEDDED / "toy-v1"
    if (embedded / "config.json").is_file():
        return embedded
    from codi_studio.codi.presets import tiny_config, write_random_model

    return write_random_model(tmp_path_factory.mktemp("models") / "toy-v1", tiny_config("toy-v1"))


@pytest.fixture()
def embedded_models(model_folder: Path) -> Iterator[Path]:
    """Points the model store's 'embedded default' at `model_folder` for one test."""
    old = os.environ.get("CODI_STUDIO_EMBEDDED_MODELS")
    os.environ["CODI_STUDIO_EMBEDDED_MODELS"] = str(model_folder.parent)
    yield model_folder
    if old is None:
        os.environ.pop("CODI_STUDIO_EMBEDDED_MODELS", None)
    else:
        os.environ["CODI_STUDIO_EMBEDDED_MODELS"] = old


@pytest.fixture()
def window(qtbot, settings):  # noqa: ANN001 - pytest-qt fixture
    """A real main window (no model needed until a test generates)."""
    from codi_studio.service.generation import GenerationService
    from codi_studio.studio.main_window import MainWindow

    w = MainWindow(settings=settings, service_factory=lambda: GenerationService("cpu"), interactive=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
