"""Media values <-> the tensors each component takes, per modality.

Preprocessing follows the reference: images are centre-cropped square and
resized, video frames likewise; CLIP sees them CLIP-normalised; the
unconditional inputs are CLIP of "", of a mid-grey picture (the reference's
all-zero [-1, 1] input) and CLAP of silence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from codi_studio.codi.model import CodiModel
from codi_studio.media.values import Audio, Image, MediaValue, Modality, Text, Video


def square_resize(frames: np.ndarray, size: int) -> np.ndarray:
    """(..., H, W, 3) uint8 -> (..., size, size, 3): centre crop to a square, then bicubic resize."""
    import cv2

    h, w = frames.shape[-3:-1]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    cropped = frames[..., top:top + side, left:left + side, :]
    if side == size:
        return np.ascontiguousarray(cropped)
    flat = cropped.reshape(-1, side, side, 3)
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    out = np.stack([cv2.resize(f, (size, size), interpolation=interp) for f in flat])
    return out.reshape(*cropped.shape[:-3], size, size, 3)


def pick_frames(video: Video, count: int) -> np.ndarray:
    """`count` frames evenly over the clip (repeating frames of a shorter one)."""
    idx = np.floor((np.arange(count) + 0.5) * video.n_frames / count).astype(int)
    return video.frames[np.clip(idx, 0, video.n_frames - 1)]


def to_unit_range(frames: np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) uint8 -> (..., 3, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).movedim(-1, -3).float() / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(..., 3, H, W) in [-1, 1] -> (..., H, W, 3) uint8, as CoDi's clamp((x + 1) / 2)."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).movedim(-3, -1).cpu().numpy()


def load_tokenizer(folder: Path) -> Any:
    from transformers import PreTrainedTokenizerFast

    if not (folder / "tokenizer.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no tokenizer.json; this model has no tokenizer for its text component "
            "(imported official models need --tokenizers, see `codi-studio models import --help`)"
        )
    return PreTrainedTokenizerFast.from_pretrained(str(folder))


class ModalityIO:
    def __init__(self, model: CodiModel) -> None:
        self.model = model
        self.geometry = model.config.geometry

    # ---- components, with what they need attached ---------------------------------------------------
    def clip(self) -> Any:
        clip = self.model.component("clip")
        if getattr(clip, "tokenizer", None) is None:
            clip.tokenizer = load_tokenizer(self.model.folder / "tokenizers" / "clip")
        return clip

    def audio_vae(self) -> Any:
        vae = self.model.component("audio_vae")
        vae.attach_vocoder(self.model.component("vocoder"))
        return vae

    def text_vae(self) -> Any:
        vae = self.model.component("text_vae")
        if vae.encoder_tokenizer is None or vae.decoder_tokenizer is None:
            folder = self.model.folder / "tokenizers"
            vae.attach_tokenizers(load_tokenizer(folder / "text_vae_encoder"), load_tokenizer(folder / "text_vae_decoder"))
        return vae

    # ---- conditioning -------------------------------------------------------------------------------
    def _clip_pixels(self, frames_uint8: np.ndarray) -> torch.Tensor:
        clip = self.model.component("clip")
        cfg = clip.config
        x = torch.from_numpy(square_resize(frames_uint8, cfg.image_size)).float() / 255.0
        mean = torch.tensor(cfg.image_mean).view(3, 1, 1)
        std = torch.tensor(cfg.image_std).view(3, 1, 1)
        x = (x.movedim(-1, -3) - mean) / std
        return x.to(self.model.device, self.model.dtype)

    def _audio_wave(self, audio: Audio | None, n: int) -> torch.Tensor:
        rate, seconds = self.geometry.audio_rate, self.geometry.audio_seconds
        length = int(round(rate * seconds))
        if audio is None:
            wave = np.zeros(length, np.float32)
        else:
            from codi_studio.media.audio import convert_audio

            wave = convert_audio(audio, sample_rate=rate, mono=True).samples[:, 0][:length]
            wave = np.pad(wave, (0, length - len(wave)))
        return torch.from_numpy(wave).to(self.model.device, torch.float32)[None].expand(n, -1)

    def encode(self, value: MediaValue, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(conditional, unconditional) embeddings, each (n, tokens, dim)."""
        if isinstance(value, Text):
            clip = self.clip()
            return clip.encode_text([value.text] * n), clip.encode_text([""] * n)
        if isinstance(value, Image):
            clip = self.model.component("clip")
            pixels = self._clip_pixels(value.pixels[None]).expand(n, -1, -1, -1)
            grey = self._clip_pixels(np.full_like(value.pixels[None], 128))
            return clip.encode_image(pixels), clip.encode_image(grey.expand(n, -1, -1, -1))
        if isinstance(value, Video):
            clip = self.model.component("clip")
            frames = pick_frames(value, self.geometry.video_frames)
            pixels = self._clip_pixels(frames)[None].expand(n, -1, -1, -1, -1)
            grey = self._clip_pixels(np.full_like(frames, 128))[None].expand(n, -1, -1, -1, -1)
            return clip.encode_video(pixels), clip.encode_video(grey)
        if isinstance(value, Audio):
            clap = self.model.component("clap")
            return clap.encode_audio(self._audio_wave(value, n)), clap.encode_audio(self._audio_wave(None, n))
        raise TypeError(f"cannot condition on {type(value).__name__}")

    # ---- latents ------------------------------------------------------------------------------------
    def latent_shape(self, modality: Modality, n: int) -> tuple[int, ...]:
        """(n, *latent) for an output; a model may pin shapes in config extras["latent_shapes"]."""
        pinned = self.model.config.extras.get("latent_shapes", {}).get(modality.value)
        if pinned:
            return (n, *[int(v) for v in pinned])
        g = self.geometry
        if modality in (Modality.IMAGE, Modality.VIDEO):
            cfg = self.model.config.components["image_vae"].config
            factor = 2 ** (len(cfg["block_out_channels"]) - 1)
            side = g.image_size // factor
            c = cfg["latent_channels"]
            return (n, c, side, side) if modality is Modality.IMAGE else (n, c, g.video_frames, side, side)
        if modality is Modality.AUDIO:
            cfg = self.model.config.components["audio_vae"].config
            factor = 2 ** (len(cfg["block_out_channels"]) - 1)
            mel = cfg.get("mel", {})
            frames = int(g.audio_seconds * mel.get("frames_per_second", 102.4))
            # rounded up so the UNet's downsampling divides it; decoding trims back to the clip length
            steps = -(-frames // factor)
            steps = -(-steps // 8) * 8
            return (n, cfg["latent_channels"], steps, mel.get("n_mels", 64) // factor)
        cfg = self.model.config.components["text_vae"].config
        return (n, int(cfg["latent_size"]))

    # ---- decoding -----------------------------------------------------------------------------------
    def decode(self, modality: Modality, z: torch.Tensor, generator: torch.Generator | None = None) -> list[MediaValue]:
        g = self.geometry
        if modality is Modality.IMAGE:
            frames = to_uint8(self.model.component("image_vae").decode(z))
            return [Image(f) for f in frames]
        if modality is Modality.VIDEO:
            x = self.model.component("image_vae").decode(z)  # (n, 3, F, H, W)
            frames = to_uint8(x.movedim(2, 1))
            return [Video(f, g.video_fps) for f in frames]
        if modality is Modality.AUDIO:
            wave = self.audio_vae().decode_to_wave(z).float().clamp(-1, 1).cpu().numpy()
            length = int(round(g.audio_rate * g.audio_seconds))
            return [Audio(w.reshape(-1)[:length], g.audio_rate) for w in wave]
        texts = self.text_vae().decode(z, generator=generator)
        return [Text(t) for t in texts]

    def previews(self, predicted: Mapping[Modality, torch.Tensor]) -> dict[Modality, MediaValue]:
        """Cheap looks at the current estimate: pictures only (sound and text wait for the end)."""
        out: dict[Modality, MediaValue] = {}
        for modality, z in predicted.items():
            if modality is Modality.IMAGE:
                out[modality] = self.decode(modality, z[:1])[0]
            elif modality is Modality.VIDEO:  # the first frame only, as a one-frame clip
                first = self.model.component("image_vae").decode(z[:1, :, :1])
                out[modality] = Video(to_uint8(first.movedim(2, 1))[0], self.geometry.video_fps)
        return out
