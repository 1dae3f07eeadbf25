"""The toy model's word-level tokenizers: the caption grammar's closed vocabulary.

Captions use a few dozen words, so one id per word keeps every sequence at
most 13 tokens. The three folders (CLIP, Optimus encoder, Optimus decoder)
are written with the model package's own `build_word_tokenizer`, so training
and inference load exactly the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codi_studio.codi.modality_io import load_tokenizer
from codi_studio.codi.presets import CLIP_BOS, CLIP_EOS
from codi_studio.codi.tokenizers import build_word_tokenizer
from codi_studio.toyworld import world

MAX_LENGTH = 16  # longest caption is 11 words, + begin and end markers
TEXT_BOS, TEXT_EOS, TEXT_PAD = "<BOS>", "<EOS>", "<PAD>"
ENCODER_CLS, ENCODER_SEP, ENCODER_PAD = "[CLS]", "[SEP]", "[PAD]"
FOLDERS = {"clip": "clip", "encoder": "text_vae_encoder", "decoder": "text_vae_decoder"}


def caption_words() -> list[str]:
    """Every word the toy-world caption grammar can produce."""
    words: set[str] = set(world.ARTICLES) | set(world.COLORS) | set(world.SHAPES) | set(world.VERBS)
    for phrases in list(world.DIRECTION_PHRASES.values()) + list(world.BACKDROP_PHRASES.values()):
        for phrase in phrases:
            words.update(phrase.split())
    return sorted(words)


@dataclass(frozen=True)
class Tokenizers:
    clip: Any
    encoder: Any
    decoder: Any

    @property
    def clip_vocab_size(self) -> int:
        return len(self.clip.get_vocab())

    @property
    def encoder_vocab_size(self) -> int:
        return len(self.encoder.get_vocab())

    @property
    def decoder_vocab_size(self) -> int:
        return len(self.decoder.get_vocab())


def write_tokenizers(folder: Path) -> Tokenizers:
    """Write the three tokenizer folders under `folder` (a model's tokenizers/) and load them back."""
    words = caption_words()
    folder = Path(folder)
    build_word_tokenizer(words, folder / FOLDERS["clip"], bos=CLIP_BOS, eos=CLIP_EOS)
    build_word_tokenizer(words, folder / FOLDERS["encoder"], bos=ENCODER_CLS, eos=ENCODER_SEP, pad=ENCODER_PAD)
    build_word_tokenizer(words, folder / FOLDERS["decoder"], bos=TEXT_BOS, eos=TEXT_EOS, pad=TEXT_PAD)
    return load_tokenizers(folder)


def load_tokenizers(folder: Path) -> Tokenizers:
    folder = Path(folder)
    return Tokenizers(*(load_tokenizer(folder / FOLDERS[k]) for k in ("clip", "encoder", "decoder")))
