"""The toy model's component configs, and the project's own classes built from them.

Training uses exactly the classes inference uses (codi_studio.codi.*), at the
recipe's sizes, so the saved state dicts load through `CodiModel.open` as they are.
"""

from __future__ import annotations

from typing import Any

from codi_studio.codi.autoencoders import (
    AudioVAE,
    AudioVAEConfig,
    GriffinLimConfig,
    ImageVAE,
    ImageVAEConfig,
    MelConfig,
    TextVAEConfig,
)
from codi_studio.codi.autoencoders.text_vae import TextVAE
from codi_studio.codi.encoders import ClapEncoder, ClapEncoderConfig, ClipEncoder, ClipEncoderConfig
from codi_studio.codi.unet import CodiUNet, CodiUNetConfig, UNet0DConfig, UNet2DConfig
from codi_studio.toyworld import world
from codi_studio.toyworld.training.recipe import ToyRecipe
from codi_studio.toyworld.training.tokenizer import MAX_LENGTH, TEXT_BOS, TEXT_EOS, Tokenizers

# 1 s of audio is int(1.0 * 102.4) = 102 mel frames; the model works on 104 (a multiple of the VAE's
# and the UNet's downsampling), i.e. 1.015625 s: the clip plus a little silence.
AUDIO_MEL_FRAMES = 104
AUDIO_SECONDS = AUDIO_MEL_FRAMES / 102.4


def image_vae_config(r: ToyRecipe, scaling_factor: float = 1.0) -> ImageVAEConfig:
    return ImageVAEConfig(block_out_channels=tuple(r.image_vae_channels), layers_per_block=1,
                          latent_channels=r.image_latent_channels,
                          norm_num_groups=r.vae_norm_groups, sample_size=world.IMAGE_SIZE,
                          scaling_factor=scaling_factor)


def audio_vae_config(r: ToyRecipe, scaling_factor: float = 1.0) -> AudioVAEConfig:
    return AudioVAEConfig(block_out_channels=tuple(r.audio_vae_channels), layers_per_block=1,
                          norm_num_groups=r.vae_norm_groups, scaling_factor=scaling_factor, mel=MelConfig())


def vocoder_config() -> GriffinLimConfig:
    return GriffinLimConfig(mel=MelConfig())


def text_vae_config(r: ToyRecipe, tok: Tokenizers, scaling_factor: float = 1.0) -> TextVAEConfig:
    h = r.text_hidden
    return TextVAEConfig(latent_size=r.text_latent_dim, scaling_factor=scaling_factor,
                         encoder_vocab_size=tok.encoder_vocab_size, encoder_hidden_size=h,
                         encoder_layers=r.text_layers, encoder_heads=2, encoder_intermediate_size=2 * h,
                         encoder_max_positions=MAX_LENGTH, decoder_vocab_size=tok.decoder_vocab_size,
                         decoder_hidden_size=h, decoder_layers=r.text_layers, decoder_heads=2,
                         decoder_max_positions=MAX_LENGTH + 2, bos_token=TEXT_BOS, eos_token=TEXT_EOS,
                         max_length=MAX_LENGTH)


def clip_config(r: ToyRecipe, tok: Tokenizers) -> ClipEncoderConfig:
    h = r.clip_hidden
    return ClipEncoderConfig(vocab_size=tok.clip_vocab_size, max_text_length=MAX_LENGTH, text_hidden_size=h,
                             text_intermediate_size=2 * h, text_layers=r.clip_layers, text_heads=2,
                             vision_hidden_size=h, vision_intermediate_size=2 * h, vision_layers=r.clip_layers,
                             vision_heads=2, image_size=world.IMAGE_SIZE, patch_size=r.clip_patch,
                             projection_dim=r.embed_dim, temporal_max_frames=world.VIDEO_FRAMES)


def clap_config(r: ToyRecipe) -> ClapEncoderConfig:
    # hop 960 at 48 kHz: 1 s -> 51 frames, which fits HTSAT's 64 x 64 "image" (hop 480 gives 101)
    return ClapEncoderConfig(clip_samples=48000, hop_size=960, spec_size=64, embed_dim=r.clap_hidden // 2, depths=(2, 2),
                             num_heads=(2, 4), window_size_attn=4, num_classes=8, joint_embed_dim=r.embed_dim)


def unet_config(r: ToyRecipe, tok: Tokenizers | None = None) -> CodiUNetConfig:
    common: dict[str, Any] = dict(model_channels=r.unet_channels, context_dim=r.embed_dim, channel_mult=(1, 1),
                                  num_res_blocks=(1, 1), with_attention=(False, True), num_heads=4,
                                  connector_channel_mult=(1, 1), connector_res_blocks=(1, 1),
                                  with_connector=(True, True), connector_output_channels=r.embed_dim)
    c = r.image_latent_channels
    image = UNet2DConfig(input_channels=c, output_channels=c, video=True, video_heads=4, **common)
    audio = UNet2DConfig(input_channels=8, output_channels=8, **common)
    text = UNet0DConfig(input_channels=r.text_latent_dim, output_channels=r.text_latent_dim, second_dim=(2, 2),
                        connector_second_dim=(2, 2), **common)
    return CodiUNetConfig(image, text, audio, joint_mode="cross", middle_self_skip=False)


def build_image_vae(r: ToyRecipe) -> ImageVAE:
    return ImageVAE(image_vae_config(r))


def build_audio_vae(r: ToyRecipe) -> AudioVAE:
    return AudioVAE(audio_vae_config(r))


def build_text_vae(r: ToyRecipe, tok: Tokenizers) -> TextVAE:
    return TextVAE(text_vae_config(r, tok), encoder_tokenizer=tok.encoder, decoder_tokenizer=tok.decoder)


def build_clip(r: ToyRecipe, tok: Tokenizers) -> ClipEncoder:
    return ClipEncoder(clip_config(r, tok), tokenizer=tok.clip)


def build_clap(r: ToyRecipe) -> ClapEncoder:
    return ClapEncoder(clap_config(r))


def build_unet(r: ToyRecipe) -> CodiUNet:
    return CodiUNet(unet_config(r))
