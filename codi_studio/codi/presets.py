"""Whole-model presets: the official full-size CoDi and a tiny one of the same architecture.

The official preset is what imported release files must fit exactly; the tiny
preset (random weights) serves tests and benchmarks on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from codi_studio.codi import components
from codi_studio.codi.config import ComponentSpec, Geometry, ModelConfig
from codi_studio.codi.model_store import write_hashes

CLIP_BOS, CLIP_EOS = "<|startoftext|>", "<|endoftext|>"


def official_config(model_id: str = "codi-official", name: str = "CoDi (official release)",
                    parts: tuple[str, ...] = ("image", "text", "audio")) -> ModelConfig:
    """The released CoDi: full-size components, eps-prediction, the reference's joint mode."""
    from codi_studio.codi.autoencoders import AudioVAEConfig, HifiGanConfig, ImageVAEConfig, TextVAEConfig
    from codi_studio.codi.encoders import ClapEncoderConfig, ClipEncoderConfig
    from codi_studio.codi.unet import CodiUNetConfig

    unet = CodiUNetConfig.official().to_dict()
    for part in ("image", "text", "audio"):
        if part not in parts:
            unet[part] = None
    comps = {
        "unet": ComponentSpec("codi_unet", unet, "unet.safetensors"),
        "image_vae": ComponentSpec("image_vae", ImageVAEConfig.official().to_dict(), "image_vae.safetensors"),
        "audio_vae": ComponentSpec("audio_vae", AudioVAEConfig.official().to_dict(), "audio_vae.safetensors"),
        "vocoder": ComponentSpec("vocoder", HifiGanConfig.official().to_dict(), "vocoder.safetensors"),
        "text_vae": ComponentSpec("text_vae", TextVAEConfig.official().to_dict(), "text_vae.safetensors"),
        "clip": ComponentSpec("clip", ClipEncoderConfig.official().to_dict(), "clip.safetensors"),
        "clap": ComponentSpec("clap", ClapEncoderConfig.official().to_dict(), "clap.safetensors"),
    }
    return ModelConfig(id=model_id, name=name, components=comps, joint_mode="reference",
                       prediction_type="epsilon", geometry=Geometry(),
                       extras={"defaults": {"steps": 50, "guidance": 7.5, "sampler": "ddim"}})


def tiny_config(model_id: str = "tiny-random", joint_mode: str = "cross") -> ModelConfig:
    """Every component at a toy size, dimensions agreeing (context 32, text latent 16)."""
    from codi_studio.codi.autoencoders import AudioVAEConfig, GriffinLimConfig, ImageVAEConfig, TextVAEConfig
    from codi_studio.codi.encoders import ClapEncoderConfig, ClipEncoderConfig
    from codi_studio.codi.unet import CodiUNetConfig

    context = 32
    clip = ClipEncoderConfig.tiny()
    text_vae = TextVAEConfig.tiny()
    unet = CodiUNetConfig.tiny(context_dim=context, text_channels=text_vae.latent_size, joint_mode=joint_mode).to_dict()
    for part in ("image", "audio", "text"):  # one level: the smallest UNet that still has every kind of layer
        unet[part].update(channel_mult=[1], num_res_blocks=[1], with_attention=[True], with_connector=[True],
                          connector_channel_mult=[1], connector_res_blocks=[1], connector_output_channels=64)
    unet["text"].update(second_dim=[2], connector_second_dim=[2])
    comps = {
        "unet": ComponentSpec("codi_unet", unet, "unet.safetensors"),
        "image_vae": ComponentSpec("image_vae", _tiny_image_vae(ImageVAEConfig), "image_vae.safetensors"),
        "audio_vae": ComponentSpec("audio_vae", AudioVAEConfig.tiny().to_dict(), "audio_vae.safetensors"),
        "vocoder": ComponentSpec("vocoder", GriffinLimConfig().to_dict(), None),
        "text_vae": ComponentSpec("text_vae", text_vae.to_dict(), "text_vae.safetensors"),
        "clip": ComponentSpec("clip", {**clip.to_dict(), "projection_dim": context}, "clip.safetensors"),
        "clap": ComponentSpec("clap", {**ClapEncoderConfig.toy().to_dict(), "joint_embed_dim": context},
                              "clap.safetensors"),
    }
    geometry = Geometry(image_size=16, video_frames=4, video_fps=8.0, audio_rate=16000, audio_seconds=0.5,
                        text_max_length=clip.max_text_length)
    return ModelConfig(id=model_id, name="tiny random CoDi (tests)", components=comps, joint_mode=joint_mode,
                       geometry=geometry, extras={"defaults": {"steps": 4, "guidance": 3.0, "sampler": "ddim"},
                               "clip_image_working_size": 16, "clip_video_working_size": 16})


def _tiny_image_vae(cls: Any) -> dict[str, Any]:
    return cls.tiny().to_dict()


def write_random_model(folder: Path, config: ModelConfig, vocabulary: list[str] | None = None,
                       seed: int = 0) -> Path:
    """Build every component with random weights and save a complete model folder."""
    from codi_studio.codi.tokenizers import build_word_tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    for name, spec in config.components.items():
        module = components.build(spec.type, spec.config)
        if spec.file:
            state = {k: v.contiguous() for k, v in module.state_dict().items()}
            save_file(state, str(folder / spec.file))
    words = vocabulary or "a one red green blue yellow circle square triangle moving left right up down at night in daylight".split()
    clip_vocab = config.components["clip"].config.get("vocab_size")
    build_word_tokenizer(words, folder / "tokenizers" / "clip", bos=CLIP_BOS, eos=CLIP_EOS)
    build_word_tokenizer(words, folder / "tokenizers" / "text_vae_encoder", bos="[CLS]", eos="[SEP]", pad="[PAD]")
    build_word_tokenizer(words, folder / "tokenizers" / "text_vae_decoder", bos="<BOS>", eos="<EOS>", pad="<PAD>")
    del clip_vocab
    config.save(folder)
    write_hashes(folder)
    return folder
