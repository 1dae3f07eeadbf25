"""`codi-studio eval` argument handling, in process through the real dispatcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from codi_studio.cli import main
from codi_studio.cli.eval import parse_joint_modes, parse_sets
from codi_studio.cli import UsageError
from codi_studio.media import Modality


def test_parse_sets() -> None:
    assert parse_sets("text, image+audio", "--inputs") == ((Modality.TEXT,), (Modality.IMAGE, Modality.AUDIO))
    assert parse_sets(None, "--inputs") is None
    with pytest.raises(UsageError, match="--outputs: 'video\\+video' repeats a modality"):
        parse_sets("video+video", "--outputs")
    with pytest.raises(UsageError, match="--inputs names no modality set"):
        parse_sets(" , ", "--inputs")
    assert parse_joint_modes("cross, reference") == ("cross", "reference")
    assert parse_joint_modes("") == ()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--samples", "0"], "--samples must be at least 1"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--inputs", "text,smell"], "--inputs: unknown modality 'smell'"),
        (["--joint-modes", "loose"], "unknown joint mode 'loose'"),
        (["--json", "/no/such/folder/out.json"], "folder /no/such/folder does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_model_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["eval", "--model", str(missing), "--samples", "1"]) == 1
    assert str(missing) in capsys.readouterr().err
