"""A small CLIP-style word tokenizer for tiny models (the toy CoDi, tests).

Official models use CLIP's BPE tokenizer loaded from the model folder
(`transformers.CLIPTokenizer(Fast).from_pretrained(folder)`). Tiny models need a
vocabulary of a few dozen words; this builds one with the `tokenizers` library,
laid out like CLIP's: "[UNK]" = 0, the words, then <|startoftext|> and
<|endoftext|> as the two highest ids (ClipEncoder pools text at the highest id,
as the reference does), <|endoftext|> doubling as padding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
UNK = "[UNK]"


def word_tokenizer(words: Iterable[str]) -> PreTrainedTokenizerFast:
    """Lower-cased whitespace/punctuation word tokenizer; vocab size = len(unique words) + 3."""
    vocab: dict[str, int] = {UNK: 0}
    for w in words:
        w = w.lower()
        if w in (UNK, BOS, EOS) or not w or any(c.isspace() for c in w):
            raise ValueError(f"word_tokenizer: bad word {w!r}")
        vocab.setdefault(w, len(vocab))
    bos, eos = len(vocab), len(vocab) + 1
    vocab[BOS], vocab[EOS] = bos, eos
    tok = Tokenizer(WordLevel(vocab, unk_token=UNK))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A {EOS}",
                                                       special_tokens=[(BOS, bos), (EOS, eos)])
    return _wrap(tok)


def load_word_tokenizer(tokenizer_json: str | Path) -> PreTrainedTokenizerFast:
    """A tokenizer.json written by `word_tokenizer(...).backend_tokenizer.save(path)`."""
    path = Path(tokenizer_json)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such tokenizer file")
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
        raise ValueError(f"{path}: not a valid tokenizer.json ({exc})") from exc
    return _wrap(tok)


def _wrap(tok: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=EOS, unk_token=UNK)
