"""Decode throughput of the media layer, against OpenCV on the same file in the same run.

    python benchmarks/media_bench.py [--seconds 10] [--size 512] [--repeat 3]

Creates (in a temp folder) a 512x512 H.264 clip of moving, textured content and a set of sound
files, then prints frames/s for `read_video` and for cv2.VideoCapture, their ratio, and
samples/s (per channel) for `read_audio` on WAV, FLAC, MP3 and M4A.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np
import soundfile

from codi_studio.media import read_audio, read_video


def make_clip(path: Path, seconds: float, size: int, fps: int = 25) -> int:
    """A moving gradient with grain, so the encoder has real work and the decoder too."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    n_frames = int(seconds * fps)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        stream.codec_context.gop_size = 2 * fps  # a keyframe every 2 s, as streaming encoders do
        for i in range(n_frames):
            phase = i / fps
            red = 127 + 120 * np.sin(x / 40 + phase * 3)
            green = 127 + 120 * np.sin(y / 55 - phase * 2)
            blue = 127 + 120 * np.sin((x + y) / 70 + phase)
            pixels = np.stack([red, green, blue], axis=2) + rng.normal(0, 6, (size, size, 1))
            frame = av.VideoFrame.from_ndarray(np.clip(pixels, 0, 255).astype(np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return n_frames


def opencv_read_all(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while True:
        ok, _ = capture.read()
        if not ok:
            break
        count += 1
    capture.release()
    return count


def best_of(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    """Fastest wall time of `repeat` runs, and what the run returned (a count)."""
    best = float("inf")
    result = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def make_sounds(folder: Path, seconds: float, rate: int = 44100) -> dict[str, Path]:
    t = np.arange(int(seconds * rate)) / rate
    samples = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], axis=1).astype(np.float32)
    paths = {"wav": folder / "s.wav", "flac": folder / "s.flac", "mp3": folder / "s.mp3", "m4a": folder / "s.m4a"}
    soundfile.write(str(paths["wav"]), samples, rate, subtype="PCM_16")
    soundfile.write(str(paths["flac"]), samples, rate, subtype="PCM_16")
    soundfile.write(str(paths["mp3"]), samples, rate, format="MP3", subtype="MPEG_LAYER_III")
    with av.open(str(paths["m4a"]), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    parser.add_argument("--size", type=int, default=512, help="clip side in pixels (default 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts (default 3)")
    parser.add_argument("--audio-seconds", type=float, default=60.0, help="length of the sound files (default 60)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = folder / "clip.mp4"
        started = time.perf_counter()
        n_frames = make_clip(clip, args.seconds, args.size)
        print(f"clip: {n_frames} frames {args.size}x{args.size} H.264, {clip.stat().st_size / 1e6:.1f} MB, "
              f"made in {time.perf_counter() - started:.1f} s")

        # alternate the two readers so both see the same machine load (the CPU may be shared)
        ours_s, cv_s, ours_n, cv_n = float("inf"), float("inf"), 0, 0
        for _ in range(args.repeat):
            seconds, ours_n = best_of(1, lambda: read_video(clip, with_audio=False).n_frames)
            ours_s = min(ours_s, seconds)
            seconds, cv_n = best_of(1, lambda: opencv_read_all(clip))
            cv_s = min(cv_s, seconds)
        sampled = {n: best_of(args.repeat, lambda n=n: read_video(clip, n_frames=n, with_audio=False).n_frames)[0] for n in (4, 16)}
        print(f"video read_video (all, RGB):    {ours_n / ours_s:8.1f} frames/s ({ours_n} frames, {ours_s:.2f} s)")
        print(f"video cv2.VideoCapture (BGR):   {cv_n / cv_s:8.1f} frames/s ({cv_n} frames, {cv_s:.2f} s)")
        print(f"ratio read_video / OpenCV:      {(ours_n / ours_s) / (cv_n / cv_s):8.2f}")
        for n, seconds in sampled.items():
            print(f"read_video n_frames={n:<3}:        {seconds * 1000:8.1f} ms for {n} frames spread over {args.seconds:g} s")

        sounds = make_sounds(folder, args.audio_seconds)
        for name, path in sounds.items():
            seconds, n = best_of(args.repeat, lambda p=path: read_audio(p).n_samples)
            print(f"audio read_audio {name:4}:          {n / seconds / 1e6:8.2f} M samples/s per channel "
                  f"({n} samples, {seconds * 1000:.0f} ms)")
        resampled_s, n = best_of(args.repeat, lambda: read_audio(sounds["wav"], sample_rate=16000, mono=True).n_samples)
        print(f"audio wav -> 16 kHz mono:       {args.audio_seconds * 44100 / resampled_s / 1e6:8.2f} M input samples/s "
              f"({resampled_s * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
