"""CoDi's CLIP conditioner: text, image and video into the shared 768-d space.

Built on transformers' CLIPModel (text tower, vision tower, both projections map
1:1 onto the reference's `clip.model.*` tensors) plus our TemporalBlock per vision
layer for video. What the reference uses as conditioning (core/models/encoders/clip.py,
FrozenCLIP.encode_text / encode_vision, the defaults codi.py's clip_encode_* call):

* text:  the final-layer-normed hidden state at the EOS position (argmax of the
  token ids, as the reference pools), through text_projection, L2-normalised ->
  (B, 1, projection_dim). Not the per-token (B, 77, 768) states.
* image: the vision tower's CLS token after post_layernorm, through
  visual_projection, L2-normalised -> (B, 1, projection_dim).
* video: frames go through the vision tower together; in every layer a temporal
  block attends across frames after the spatial self-attention; the last hidden
  states are averaged over frames, then CLS -> post_layernorm -> projection ->
  L2 norm -> (B, 1, projection_dim).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import CLIPConfig, CLIPModel

from .config import ClipEncoderConfig
from .temporal import TemporalBlock


def _hf_config(cfg: ClipEncoderConfig) -> CLIPConfig:
    text = dict(vocab_size=cfg.vocab_size, hidden_size=cfg.text_hidden_size,
                intermediate_size=cfg.text_intermediate_size, num_hidden_layers=cfg.text_layers,
                num_attention_heads=cfg.text_heads, max_position_embeddings=cfg.max_text_length,
                hidden_act=cfg.hidden_act, layer_norm_eps=cfg.layer_norm_eps, projection_dim=cfg.projection_dim,
                # CLIP's BOS/EOS are the last two ids (49406/49407); EOS pooling relies on that
                bos_token_id=cfg.vocab_size - 2, eos_token_id=cfg.vocab_size - 1, pad_token_id=cfg.vocab_size - 1)
    vision = dict(hidden_size=cfg.vision_hidden_size, intermediate_size=cfg.vision_intermediate_size,
                  num_hidden_layers=cfg.vision_layers, num_attention_heads=cfg.vision_heads,
                  image_size=cfg.image_size, patch_size=cfg.patch_size, hidden_act=cfg.hidden_act,
                  layer_norm_eps=cfg.layer_norm_eps, projection_dim=cfg.projection_dim)
    hf = CLIPConfig(text_config=text, vision_config=vision, projection_dim=cfg.projection_dim)
    hf._attn_implementation = "eager"  # plain softmax attention: what the reference computes
    return hf


class ClipEncoder(nn.Module):
    """CLIP text/vision towers with CoDi's temporal layers; outputs (B, 1, projection_dim)."""

    def __init__(self, config: ClipEncoderConfig, tokenizer: Any | None = None) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer  # a transformers tokenizer; needed only by encode_text
        self.model = CLIPModel(_hf_config(config))
        self.temporal = nn.ModuleList(
            TemporalBlock(config.vision_hidden_size, config.vision_heads, config.temporal_max_frames)
            for _ in range(config.vision_layers)
        ) if config.temporal_layers else None

    @property
    def device(self) -> torch.device:
        return self.model.text_projection.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.text_projection.weight.dtype

    # ---------------------------------------------------------------- text
    def tokenize(self, texts: list[str]) -> torch.Tensor:
        """Token ids (B, max_text_length): truncated and padded to max length, as the reference."""
        if self.tokenizer is None:
            raise ValueError("ClipEncoder.encode_text needs a tokenizer (ClipEncoder(config, tokenizer=...))")
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("encode_text expects a list of strings")
        batch = self.tokenizer(list(texts), truncation=True, max_length=self.config.max_text_length,
                               padding="max_length", return_tensors="pt")
        return batch["input_ids"]

    def encode_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, L) token ids -> (B, 1, projection_dim), pooled at argmax(id) (CLIP's EOS is the top id)."""
        input_ids = input_ids.to(self.device)
        hidden = self.model.text_model(input_ids=input_ids).last_hidden_state
        pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), input_ids.argmax(dim=-1)]
        return F.normalize(self.model.text_projection(pooled), dim=-1).unsqueeze(1)

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return self.encode_tokens(self.tokenize(texts))

    # ---------------------------------------------------------------- vision
    def _check_pixels(self, pixels: torch.Tensor, ndim: int, what: str) -> None:
        s = self.config.image_size
        if pixels.ndim != ndim or pixels.shape[-3:] != (3, s, s):
            want = "(B,3,S,S)" if ndim == 4 else "(B,F,3,S,S)"
            raise ValueError(f"{what} expects {want} with S={s} (see preprocess_*), got {tuple(pixels.shape)}")

    def _project_cls(self, last_hidden: torch.Tensor) -> torch.Tensor:
        pooled = self.model.vision_model.post_layernorm(last_hidden[:, 0, :])
        return F.normalize(self.model.visual_projection(pooled), dim=-1).unsqueeze(1)

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) CLIP-normalised pixels -> (B, 1, projection_dim)."""
        self._check_pixels(pixels, 4, "encode_image")
        vm = self.model.vision_model
        hidden = vm.pre_layrnorm(vm.embeddings(pixels.to(self.device, self.dtype)))
        for layer in vm.encoder.layers:
            hidden = layer(hidden, None)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        return self._project_cls(hidden)

    def encode_video(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, F, 3, S, S) CLIP-normalised frames -> (B, 1, projection_dim) through the temporal layers."""
        self._check_pixels(frames, 5, "encode_video")
        if self.temporal is None:
            raise ValueError("encode_video needs a ClipEncoderConfig with temporal_layers=True")
        b, f = frames.shape[:2]
        vm = self.model.vision_model
        hidden = vm.pre_layrnorm(vm.embeddings(frames.flatten(0, 1).to(self.device, self.dtype)))
        tokens, dim = hidden.shape[1:]
        for layer, temporal in zip(vm.encoder.layers, self.temporal):
            attn, _ = layer.self_attn(hidden_states=layer.layer_norm1(hidden), attention_mask=None)
            hidden = hidden + attn
            # attend across frames, one sequence per (video, token position)
            per_token = hidden.view(b, f, tokens, dim).transpose(1, 2).reshape(b * tokens, f, dim)
            per_token = temporal(per_token)
            hidden = per_token.view(b, tokens, f, dim).transpose(1, 2).reshape(b * f, tokens, dim)
            hidden = hidden + layer.mlp(layer.layer_norm2(hidden))
        return self._project_cls(hidden.view(b, f, tokens, dim).mean(dim=1))


def build_clip_encoder(config: dict[str, Any]) -> ClipEncoder:
    """Component factory: config dict (ClipEncoderConfig.to_dict()) -> ClipEncoder without tokenizer."""
    return ClipEncoder(ClipEncoderConfig.from_dict(config))
