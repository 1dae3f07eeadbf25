"""Store test helpers: real media files made on the spot, recipes."""

from __future__ import annotations

from pathlib import Path
import numpy as np
import soundfile
from PIL import Image as PILImage

from codi_studio.media import Audio, Image, Video, write_mp4
from codi_studio.store import Recipe, RecipeInput


def make_png(path: Path, seed: int = 0, size: tuple[int, int] = (48, 32)) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(path)
    return path


def make_wav(path: Path, seconds: float = 1.0, rate: int = 16000, freq: float = 440.0) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


def make_mp4(path: Path, frames: int = 12, fps: float = 12.0, with_audio: bool = True) -> Path:
    rng = np.random.default_rng(frames)
    video = rng.integers(0, 256, (frames, 32, 32, 3), dtype=np.uint8)
    sound = Audio(np.zeros((int(16000 * frames / fps), 1), np.float32), 16000) if with_audio else None
    write_mp4(path, Video(video, fps, sound))
    return path


def image_value(seed: int) -> Image:
    return Image(np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8))


def recipe(seed: int = 1, prompt: str | None = "a red ball", outputs: tuple[str, ...] = ("image",),
           inputs: tuple[RecipeInput, ...] = (), model: str = "toy-v1") -> Recipe:
    text_inputs = (RecipeInput("text", 1.0, text=prompt),) if prompt is not None else ()
    return Recipe(model_id=model, model_hash="sha256:abc", sampler="ddim", steps=20, guidance=7.5, seed=seed,
                  outputs=outputs, inputs=text_inputs + inputs)
