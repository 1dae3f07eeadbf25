"""`codi-studio gui`: the screenshot mode as a real process, and argument errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codi_studio.cli import main
from codi_studio.media import read_image


@pytest.mark.gui
def test_screenshot_of_the_sample_project(tmp_path: Path):
    from codi_studio.studio.sample import sample_project_path

    project = sample_project_path(tmp_path / "projects")
    shot = tmp_path / "shot.png"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "QT_QPA_PLATFORM": "offscreen",
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "codi_studio", "gui", str(project), "--screenshot", str(shot)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    picture = read_image(shot)
    assert picture.width >= 1200 and picture.height >= 700
    # a drawn window, not a blank buffer: many distinct colours
    assert len(np.unique(picture.pixels.reshape(-1, 3), axis=0)) > 500


def test_bad_arguments_are_one_line_errors(tmp_path: Path, capsys):
    assert main(["gui", str(tmp_path / "notes.txt")]) == 2
    assert "must end in .codi" in capsys.readouterr().err
    assert main(["gui", str(tmp_path / "p.codi"), "--screenshot", str(tmp_path / "x.jpg")]) == 2
    assert "must be a .png" in capsys.readouterr().err
    folder = tmp_path / "dir.codi"
    folder.mkdir()
    assert main(["gui", str(folder)]) == 2
    assert "is not a file" in capsys.readouterr().err
