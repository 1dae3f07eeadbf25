"""Small word-level tokenizers for models trained on a closed vocabulary (the toy world).

Saved as a transformers-loadable folder (tokenizer.json + tokenizer_config.json)
so that the same loading code serves them and the official BPE tokenizers.
CLIP pools its text at the highest token id, so the end token is given the
last id, as in CLIP's own vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, models, pre_tokenizers, processors

UNK, PAD = "[UNK]", "[PAD]"


def build_word_tokenizer(words: Iterable[str], folder: Path, *, bos: str, eos: str,
                         pad: str | None = None, lowercase: bool = True) -> Path:
    """Write a word-level tokenizer over `words`; ids: (PAD), UNK, words..., BOS, EOS (last).

    PAD, when given, is id 0 as BERT's (the Optimus encoder masks id 0).
    """
    vocab: dict[str, int] = {}
    if pad is not None and pad not in (bos, eos):
        vocab[pad] = 0
    vocab[UNK] = len(vocab)
    for w in sorted({w.lower() if lowercase else w for w in words}):
        vocab.setdefault(w, len(vocab))
    vocab[bos] = len(vocab)
    vocab[eos] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    if lowercase:
        from tokenizers import normalizers

        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, vocab[bos]), (eos, vocab[eos])]
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": bos, "eos_token": eos,
              "unk_token": UNK, "pad_token": pad or eos, "model_max_length": 512}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
    return folder
