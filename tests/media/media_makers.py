"""File makers for the media tests: every file is created here, with PyAV, Pillow or soundfile.

Named media_makers (not helpers) so it cannot clash with other test folders on sys.path.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import numpy as np
import soundfile
from PIL import Image as PILImage


def gradient_rgb(height: int, width: int) -> np.ndarray:
    """A picture where every pixel differs from its neighbours, so shifts and flips show."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), ((x + y) * 7) % 256], axis=2).astype(
        np.uint8
    )


def frame_level(index: int) -> int:
    """The grey level of test video frame `index` (< 48): 5 apart, more than any codec error on flat grey."""
    if not 0 <= index < 48:
        raise ValueError("test videos have at most 48 distinguishable frames")
    return 16 + 5 * index


def level_index(level: float, n: int) -> int:
    """Which of frames 0..n-1 has the grey level closest to `level`."""
    return int(np.argmin([abs(frame_level(i) - level) for i in range(n)]))


def sine(seconds: float, rate: int, channels: int = 1, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return np.stack([amp * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)], axis=1).astype(np.float32)


class Maker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / name

    def pillow(self, name: str, picture: PILImage.Image, **save: object) -> Path:
        p = self.path(name)
        picture.save(p, **save)
        return p

    def sound(self, name: str, samples: np.ndarray, rate: int, format: str, subtype: str) -> Path:
        p = self.path(name)
        soundfile.write(str(p), samples, rate, format=format, subtype=subtype)
        return p

    def av_audio(self, name: str, samples: np.ndarray, rate: int, codec: str, container_format: str | None = None) -> Path:
        """Encode (n, channels) float samples with an FFmpeg encoder."""
        p = self.path(name)
        layout = {1: "mono", 2: "stereo"}[samples.shape[1]]
        with av.open(str(p), "w", format=container_format) as out:
            stream = out.add_stream(codec, rate=rate, layout=layout)
            fmt = stream.codec_context.codec.audio_formats[0].name
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = 0
            resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
            for piece in resampler.resample(frame):
                out.mux(stream.encode(piece))
            out.mux(stream.encode(None))
        return p

    def av_video(
        self,
        name: str,
        n_frames: int,
        fps: float | Fraction = 10,
        size: tuple[int, int] = (64, 48),
        codec: str = "libx264",
        pix_fmt: str = "yuv420p",
        container_format: str | None = None,
        times: Sequence[float] | None = None,
        audio: tuple[np.ndarray, int, str] | None = None,
        gop: int | None = None,
    ) -> Path:
        """Frames of flat grey `frame_level(i)`; `times` (seconds) makes it variable-frame-rate."""
        p = self.path(name)
        width, height = size
        with av.open(str(p), "w", format=container_format) as out:
            rate = Fraction(fps).limit_denominator(1001)
            stream = out.add_stream(codec, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            if gop is not None:  # a keyframe every `gop` frames
                stream.codec_context.gop_size = gop
            if times is not None:
                stream.codec_context.time_base = Fraction(1, 1000)
                stream.time_base = Fraction(1, 1000)
            if audio is not None:
                samples, rate_a, codec_a = audio
                layout = {1: "mono", 2: "stereo"}[samples.shape[1]]
                a_stream = out.add_stream(codec_a, rate=rate_a, layout=layout)
            for i in range(n_frames):
                pixels = np.full((height, width, 3), frame_level(i), np.uint8)
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                frame.pts = i if times is None else int(round(times[i] * 1000))
                if times is not None:
                    frame.time_base = Fraction(1, 1000)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
            if audio is not None:
                fmt = a_stream.codec_context.codec.audio_formats[0].name
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout=layout)
                frame.sample_rate, frame.pts = rate_a, 0
                for piece in av.AudioResampler(format=fmt, layout=layout, rate=rate_a).resample(frame):
                    out.mux(a_stream.encode(piece))
                out.mux(a_stream.encode(None))
        return p

    def animated_gif(self, name: str, n_frames: int, durations_ms: Sequence[int]) -> Path:
        frames = [PILImage.new("RGB", (32, 24), (frame_level(i),) * 3) for i in range(n_frames)]
        p = self.path(name)
        frames[0].save(p, save_all=True, append_images=frames[1:], duration=list(durations_ms), loop=0)
        return p

    def bytes(self, name: str, data: bytes) -> Path:
        p = self.path(name)
        p.write_bytes(data)
        return p
