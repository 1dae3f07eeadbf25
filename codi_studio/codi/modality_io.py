"""Media values <-> the tensors each component takes, per modality.

Preprocessing follows the reference (codi_studio.codi.encoders.clip_preprocess):
images and video frames are centre-cropped square, regularised to a working
size, then put through CLIP's processor; the unconditional inputs are CLIP of
"", of the all-zero [-1, 1] picture or clip (mid-grey) and CLAP of silence.
Small models trained at their own size pin the working sizes in config extras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from codi_studio.codi.model import CodiModel
from codi_studio.media.values import Audio, Image, MediaValue, Modality, Text, Video


def pick_frames(video: Video, count: int) -> np.ndarray:
    """`count` frames evenly over the clip (repeating frames of a shorter one)."""
    idx = np.floor((np.arange(count) + 0.5) * video.n_frames / count).astype(int)
    return video.frames[np.clip(idx, 0, video.n_frames - 1)]


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
    def _vision_working_size(self, key: str, default: int) -> int:
        """Size conditions are regularised to before CLIP's processor (the reference: 512 images, 256 video)."""
        return int(self.model.config.extras.get(key, default))

    def _clip_image(self, pixels: np.ndarray | None, n: int) -> torch.Tensor:
        """CLIP pixels of an image, or of the reference's unconditional all-zero ([-1, 1]) picture."""
        from codi_studio.codi.encoders import pixels_from_signed, preprocess_image
        from codi_studio.codi.encoders.clip_preprocess import IMAGE_WORKING_SIZE

        cfg = self.model.component("clip").config
        if pixels is None:
            size = self._vision_working_size("clip_image_working_size", IMAGE_WORKING_SIZE)
            x = pixels_from_signed(torch.zeros(1, 3, size, size), cfg)
        else:
            x = preprocess_image(pixels, cfg, self._vision_working_size("clip_image_working_size", IMAGE_WORKING_SIZE))
        return x.to(self.model.device, self.model.dtype).expand(n, -1, -1, -1)

    def _clip_video(self, frames: np.ndarray | None, n: int) -> torch.Tensor:
        from codi_studio.codi.encoders import pixels_from_signed, preprocess_video
        from codi_studio.codi.encoders.clip_preprocess import VIDEO_WORKING_SIZE

        cfg = self.model.component("clip").config
        size = self._vision_working_size("clip_video_working_size", VIDEO_WORKING_SIZE)
        if frames is None:
            x = pixels_from_signed(torch.zeros(1, 3, self.geometry.video_frames, size, size), cfg)
        else:
            x = preprocess_video(frames, cfg, size)
        return x.to(self.model.device, self.model.dtype).expand(n, -1, -1, -1, -1)

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
            return clip.encode_image(self._clip_image(value.pixels, n)), clip.encode_image(self._clip_image(None, n))
        if isinstance(value, Video):
            clip = self.model.component("clip")
            frames = pick_frames(value, self.geometry.video_frames)
            return clip.encode_video(self._clip_video(frames, n)), clip.encode_video(self._clip_video(None, n))
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
