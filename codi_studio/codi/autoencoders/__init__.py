"""CoDi's autoencoders: image KL-VAE, audio mel VAE + vocoders, Optimus text VAE.

Component factories for model folders: `build_image_vae`, `build_audio_vae`, `build_vocoder`,
`build_text_vae` (each takes the component's config dict). Reference-checkpoint key maps are
in `keymaps`.
"""

from codi_studio.codi.autoencoders.audio_vae import AudioVAE, build_audio_vae
from codi_studio.codi.autoencoders.configs import (
    AudioVAEConfig,
    GriffinLimConfig,
    HifiGanConfig,
    ImageVAEConfig,
    MelConfig,
    TextVAEConfig,
    vocoder_config_from_dict,
)
from codi_studio.codi.autoencoders.image_vae import ImageVAE, build_image_vae
from codi_studio.codi.autoencoders.mel import MelFrontEnd, slaney_mel_filterbank
from codi_studio.codi.autoencoders.text_cleanup import merge_adjacent_repeats
from codi_studio.codi.autoencoders.text_vae import TextVAE, build_text_vae
from codi_studio.codi.autoencoders.vocoder import GriffinLimVocoder, HifiGanVocoder, build_vocoder

__all__ = [
    "AudioVAE", "AudioVAEConfig", "GriffinLimConfig", "GriffinLimVocoder", "HifiGanConfig", "HifiGanVocoder",
    "ImageVAE", "ImageVAEConfig", "MelConfig", "MelFrontEnd", "TextVAE", "TextVAEConfig", "build_audio_vae",
    "build_image_vae", "build_text_vae", "build_vocoder", "merge_adjacent_repeats", "slaney_mel_filterbank",
    "vocoder_config_from_dict",
]
