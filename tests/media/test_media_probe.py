"""probe() facts per modality and the `codi-studio probe` command (in process and as a process)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from media_makers import Maker, gradient_rgb, sine
from PIL import Image as PILImage

from codi_studio.cli import main
from codi_studio.media import Audio, Image, Modality, Text, Video, probe, write_media

KEYS = ["path", "modality", "width", "height", "fps", "frames", "duration", "sample_rate", "channels", "has_audio"]


def test_probe_image_reports_upright_size(make: Maker) -> None:
    picture = PILImage.fromarray(gradient_rgb(20, 40))
    exif = picture.getexif()
    exif[0x0112] = 8
    info = probe(make.pillow("p.jpg", picture, exif=exif.tobytes()))
    assert (info.modality, info.width, info.height) == (Modality.IMAGE, 20, 40)
    assert info.fps is None and info.duration is None and info.has_audio is None


def test_probe_audio(make: Maker) -> None:
    info = probe(make.sound("s.flac", sine(1.5, 22050, channels=2), 22050, "FLAC", "PCM_16"))
    assert info.modality is Modality.AUDIO
    assert (info.sample_rate, info.channels) == (22050, 2)
    assert info.duration == pytest.approx(1.5)
    assert info.width is None and info.frames is None
    m4a = probe(make.av_audio("s.m4a", sine(1.0, 16000), 16000, "aac", "ipod"))
    assert (m4a.modality, m4a.sample_rate, m4a.channels) == (Modality.AUDIO, 16000, 1)
    assert m4a.duration == pytest.approx(1.0, abs=0.1)


def test_probe_video_with_and_without_sound(make: Maker) -> None:
    with_sound = make.av_video("a.mp4", 25, fps=25, audio=(sine(1.0, 44100, channels=2), 44100, "aac"))
    info = probe(with_sound)
    assert info.modality is Modality.VIDEO
    assert (info.width, info.height, info.frames) == (64, 48, 25)
    assert info.fps == pytest.approx(25.0) and info.duration == pytest.approx(1.0, abs=0.05)
    assert (info.has_audio, info.sample_rate, info.channels) == (True, 44100, 2)
    silent = probe(make.av_video("b.webm", 10, fps=10, codec="libvpx", container_format="webm"))
    assert (silent.has_audio, silent.sample_rate, silent.channels, silent.frames) == (False, None, None, 10)
    assert silent.duration == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "codec", "container"),
    [("cam.ts", "libx264", "mpegts"), ("old.mpg", "mpeg2video", "mpeg"), ("web.flv", "libx264", "flv")],
)
def test_probe_counts_frames_where_headers_only_estimate(make: Maker, name: str, codec: str, container: str) -> None:
    info = probe(make.av_video(name, 24, fps=12, codec=codec, container_format=container))
    assert (info.frames, info.fps) == (24, 12.0)
    assert info.duration == pytest.approx(2.0, abs=1e-3)  # MPEG-PS's header says 1.67, FLV's 2.17


def test_probe_animated_and_still_gif(make: Maker) -> None:
    animated = probe(make.animated_gif("a.gif", 3, [100, 200, 300]))
    assert animated.modality is Modality.VIDEO and animated.frames == 3
    assert animated.duration == pytest.approx(0.6, abs=0.02)
    still = probe(make.pillow("s.gif", PILImage.new("RGB", (7, 5))))
    assert (still.modality, still.width, still.height) == (Modality.IMAGE, 7, 5)


def test_probe_text(make: Maker) -> None:
    info = probe(make.bytes("prompt.txt", "a cat on a mat ✓".encode()))
    assert info.modality is Modality.TEXT
    assert info.to_dict() == {"path": str(make.path("prompt.txt")), "modality": "text"} | {k: None for k in KEYS[2:]}


def test_probe_matches_what_we_write(make: Maker) -> None:
    values = {
        "w.png": Image(gradient_rgb(6, 10)),
        "w.wav": Audio(sine(0.5, 16000), 16000),
        "w.mp4": Video(np.zeros((6, 16, 24, 3), np.uint8), 6.0, Audio(sine(1.0, 16000), 16000)),
        "w.txt": Text("hello"),
    }
    infos = {name: probe(write_media(make.path(name), value)) for name, value in values.items()}
    assert (infos["w.png"].width, infos["w.png"].height) == (10, 6)
    assert infos["w.wav"].duration == pytest.approx(0.5)
    assert (infos["w.mp4"].frames, infos["w.mp4"].fps, infos["w.mp4"].has_audio) == (6, 6.0, True)
    assert infos["w.txt"].modality is Modality.TEXT


def test_cli_prints_one_json_line_per_file(make: Maker, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_media(make.path("ok.png"), Image(gradient_rgb(4, 6)))
    wav = write_media(make.path("ok.wav"), Audio(sine(0.25, 8000), 8000))
    bad = make.bytes("bad.mp4", b"not a video at all")
    code = main(["probe", str(good), str(bad), str(wav)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["path"] for line in lines] == [str(good), str(bad), str(wav)]
    assert list(lines[0]) == KEYS
    assert (lines[0]["modality"], lines[0]["width"], lines[0]["height"], lines[0]["fps"]) == ("image", 6, 4, None)
    assert set(lines[1]) == {"path", "error"} and "unrecognised" in lines[1]["error"]
    assert (lines[2]["modality"], lines[2]["sample_rate"], lines[2]["duration"]) == ("audio", 8000, 0.25)


def test_cli_all_good_exits_zero(make: Maker, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_media(make.path("ok.txt"), Text("x"))
    assert main(["probe", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["modality"] == "text"


def test_cli_without_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["probe"])
    assert caught.value.code == 2
    assert "FILE" in capsys.readouterr().err


def test_cli_as_a_process_never_imports_torch(make: Maker) -> None:
    clip = make.av_video("c.mp4", 5, fps=5)
    missing = make.path("missing.wav")
    # -X importtime lists every module the real entry point imports, on stderr
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "codi_studio", "probe", str(clip), str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["modality"] == "video" and lines[0]["frames"] == 5
    assert lines[1] == {"path": str(missing), "error": "file not found"}
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "codi_studio.media.probe" in imported  # the listing works
    assert not {"torch", "PySide6", "diffusers", "transformers"} & imported
