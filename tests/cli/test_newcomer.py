"""The README's first command on the shipped model: the video shows the caption, the sound matches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codi_studio.cli import main
from codi_studio.media import probe, read_media
from codi_studio.toyworld.judges import judge

TOY_MODEL = Path(__file__).resolve().parents[2] / "models" / "toy-v1"


@pytest.mark.skipif(not (TOY_MODEL / "config.json").is_file(), reason=f"{TOY_MODEL} is not trained yet")
def test_newcomer_command_writes_the_scene_it_was_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["generate", "--text", "a blue square moving up at night", "--out-modalities", "video,audio",
            "--out", str(out), "--device", "cpu"]
    assert main(argv) == 0
    video, audio = out / "video.mp4", out / "audio.wav"
    assert probe(video).has_audio  # the generated sound is muxed into the clip
    assert judge(read_media(video)) == {"shape": "square", "color": "blue", "motion": "up", "backdrop": "night"}
    assert judge(read_media(audio)) == {"shape": "square", "color": "blue", "motion": "up"}
