"""Pixels for the CLIP conditioner, prepared as the reference prepares them.

Reference chain (core/common/utils.py regularize_image/regularize_video, then
FrozenCLIP.encode_vision_noproj with the openai/clip-vit-large-patch14 processor
under transformers 4.26, CoDi's pin):

1. image: crop to a square (the reference crops at a RANDOM position and flips at
   random; we crop at the centre and never flip), PIL-bicubic resize to 512,
   ToTensor, x*2-1.  video: centre crop to a square, bicubic resize of the uint8
   frames to 256 (torchvision 0.13.1 on tensors, the reference's pin: NOT
   antialiased, clamped and rounded back to uint8), /255*2-1.
2. encode_vision_noproj: (x+1)/2 -> the CLIP image processor, which multiplies by
   255 and TRUNCATES to uint8, PIL-bicubic resizes the shortest edge to S (the
   long edge to int(S*long/short)), centre-crops SxS, divides by 255 and
   normalises with CLIP's mean/std.

`pixels_from_signed` is step 2 exactly (parity-tested); `preprocess_image` and
`preprocess_video` run steps 1+2 on uint8 frames. CoDi's unconditional image/video
input is all zeros in [-1,1] space: pass `torch.zeros(...)` to `pixels_from_signed`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image as PILImage

from .config import ClipEncoderConfig

IMAGE_WORKING_SIZE = 512  # regularize_image default in the reference
VIDEO_WORKING_SIZE = 256  # regularize_video default


def _clip_pixels_one(unit_hwc: np.ndarray, size: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    quantised = (unit_hwc.astype(np.float32) * 255).astype(np.uint8)  # truncation, as the processor does
    h, w = quantised.shape[:2]
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    resized = np.asarray(PILImage.fromarray(quantised).resize((new_w, new_h), resample=PILImage.BICUBIC))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    cropped = resized[top:top + size, left:left + size]
    normalised = (cropped * (1 / 255) - mean) / std
    return normalised.transpose(2, 0, 1).astype(np.float32)


def pixels_from_signed(x: torch.Tensor, config: ClipEncoderConfig) -> torch.Tensor:
    """CoDi vision input in [-1,1] -> CLIP-normalised pixels.

    (B,3,H,W) -> (B,3,S,S) for images; (B,3,F,H,W) -> (B,F,3,S,S) for video.
    """
    if x.ndim not in (4, 5) or x.shape[1] != 3:
        raise ValueError(f"pixels_from_signed expects (B,3,H,W) or (B,3,F,H,W) in [-1,1], got {tuple(x.shape)}")
    unit = ((x.detach().float().cpu() + 1) / 2)
    frames = unit.permute(0, 2, 3, 4, 1) if x.ndim == 5 else unit.permute(0, 2, 3, 1)[:, None]
    b, f = frames.shape[:2]
    mean = np.asarray(config.image_mean, dtype=np.float64)
    std = np.asarray(config.image_std, dtype=np.float64)
    flat = frames.reshape(b * f, *frames.shape[2:]).numpy()
    out = np.stack([_clip_pixels_one(fr, config.image_size, mean, std) for fr in flat])
    pixels = torch.from_numpy(out).view(b, f, 3, config.image_size, config.image_size)
    return pixels if x.ndim == 5 else pixels[:, 0]


def _as_batch(frames: np.ndarray, ndim: int, what: str) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.shape[-1] != 3 or frames.ndim not in (ndim, ndim + 1):
        shape = "HxWx3" if ndim == 3 else "FxHxWx3"
        raise ValueError(f"{what} expects uint8 {shape} (or a batch of them), got {frames.shape} {frames.dtype}")
    return frames[None] if frames.ndim == ndim else frames


def _centre_square(frames: np.ndarray) -> np.ndarray:
    """Crop the last-but-one two axes (H, W) to a centred square, with the reference's rounding."""
    h, w = frames.shape[-3:-1]
    side = min(h, w)
    left = int(np.ceil((w - side) / 2))
    top = int(np.ceil((h - side) / 2))
    return frames[..., top:top + side, left:left + side, :]


def preprocess_image(image: np.ndarray, config: ClipEncoderConfig,
                     working_size: int = IMAGE_WORKING_SIZE) -> torch.Tensor:
    """uint8 HxWx3 (or BxHxWx3) -> (B,3,S,S) CLIP pixels (regularize_image without its randomness)."""
    batch = _centre_square(_as_batch(image, 3, "preprocess_image"))
    signed = []
    for img in batch:
        resized = PILImage.fromarray(np.ascontiguousarray(img)).resize((working_size, working_size),
                                                                        resample=PILImage.BICUBIC)
        t = torch.from_numpy(np.asarray(resized).copy()).permute(2, 0, 1).float().div(255)
        signed.append(t * 2 - 1)
    return pixels_from_signed(torch.stack(signed), config)


def preprocess_video(frames: np.ndarray, config: ClipEncoderConfig,
                     working_size: int = VIDEO_WORKING_SIZE) -> torch.Tensor:
    """uint8 FxHxWx3 (or BxFxHxWx3) -> (B,F,3,S,S) CLIP pixels (regularize_video, then the processor)."""
    batch = _centre_square(_as_batch(frames, 4, "preprocess_video"))
    b, f = batch.shape[:2]
    t = torch.from_numpy(np.ascontiguousarray(batch)).reshape(b * f, *batch.shape[2:]).permute(0, 3, 1, 2).float()
    t = F.interpolate(t, size=(working_size, working_size), mode="bicubic", align_corners=False, antialias=False)
    t = t.clamp(0, 255).round() / 255.0 * 2.0 - 1.0
    signed = t.view(b, f, 3, working_size, working_size).permute(0, 2, 1, 3, 4)
    return pixels_from_signed(signed, config)
