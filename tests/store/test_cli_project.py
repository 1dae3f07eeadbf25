"""`codi-studio project ...` through the real dispatcher, and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codi_studio.cli import main
from codi_studio.store import Project, RecipeInput

from store_helpers import image_value, make_png, recipe


def test_new_info_history_export_import_purge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "film.codi"
    assert main(["project", "new", str(path), "--name", "Film"]) == 0
    assert "created" in capsys.readouterr().out
    with Project.open(path) as project:
        photo = project.import_media(make_png(tmp_path / "photo.png"))
        made = project.record_generation(
            recipe(seed=5, prompt="a windmill", inputs=(RecipeInput("image", 0.5, version_id=photo.id),)),
            {"image": image_value(1)})
        junk = project.add_value(image_value(2), "junk")
        project.delete_asset(junk.asset_id)

    assert main(["project", "info", str(path), "--json", "--check"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["name"], info["versions"], info["problems"]) == ("Film", 2, [])

    assert main(["project", "history", str(path), "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [(v["id"], v["asset"], v["modality"]) for v in history] == [(made.versions[0].id, made.versions[0].asset_id, "image"),
                                                                       (photo.id, photo.asset_id, "image")]
    assert history[0]["recipe"]["seed"] == 5 and history[0]["recipe"]["inputs"][1]["version_id"] == photo.id
    assert history[1]["recipe"] is None and history[0]["created_at"].endswith("+00:00")

    assert main(["project", "history", str(path)]) == 0
    text = capsys.readouterr().out
    assert 'seed 5  "a windmill"' in text and "import photo.png" in text

    bundle = tmp_path / "film.zip"
    assert main(["project", "export", str(path), str(bundle)]) == 0
    capsys.readouterr()
    copy = tmp_path / "copy.codi"
    assert main(["project", "import", str(bundle), str(copy)]) == 0
    capsys.readouterr()
    assert main(["project", "info", str(copy), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["versions"] == 2

    assert main(["project", "purge", str(path)]) == 0
    assert "1 versions, 1 assets, 1 media" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["project", "new", str(tmp_path / "x.txt")]) == 2
    assert "needs the .codi extension" in capsys.readouterr().err
    (tmp_path / "notes.codi").write_text("hello")
    assert main(["project", "info", str(tmp_path / "notes.codi")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("codi-studio project info: error:") and "not a CoDi Studio project" in err
    assert "\n" not in err
    assert main(["project", "import", str(tmp_path / "notes.codi"), str(tmp_path / "y.codi")]) == 1
    assert "not a zip file" in capsys.readouterr().err


def test_cli_as_a_process_while_the_project_is_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "busy.codi"
    with Project.create(path) as project:
        project.add_track("audio")
        info = subprocess.run([sys.executable, "-m", "codi_studio", "project", "info", str(path), "--json"],
                              capture_output=True, text=True, timeout=120)
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["tracks"] == 1  # reads while the studio holds it
        assert main(["project", "purge", str(path)]) == 1  # writing needs the lock
        assert "project is open elsewhere" in capsys.readouterr().err
