"""CoDi's clean-up of sampled Optimus text (model_module_infer.py decode, prompt_merge_same_adj_word).

Sampling at temperature 1 tends to stutter ("a a dog dog running running"). The reference first
drops a word equal to the one before it, then removes immediately repeated phrases of any
length, treating trailing / leading punctuation as separate tokens so "dog. dog." also merges.
"""

from __future__ import annotations

_OPENING = "([{"
_CLOSING = "?!.,:;}])"
_GLUE = "<puncnext>"  # marks punctuation that is re-attached to its neighbour on output


def _split_punctuation(text: str) -> list[str]:
    tokens: list[str] = []
    for word in text.split(" "):
        while word and word[0] in _OPENING:
            tokens += [word[0], _GLUE]
            word = word[1:]
        trailing: list[str] = []
        while word and word[-1] in _CLOSING:
            trailing = [_GLUE, word[-1]] + trailing
            word = word[:-1]
        if word:
            tokens.append(word)
        tokens += trailing
    return tokens


def _drop_repeated_phrases(tokens: list[str]) -> list[str]:
    """Remove the second of two adjacent identical n-token runs, for n = 1, 2, ... (shortest first)."""
    tokens = list(tokens)
    n = 1
    while 2 * n <= len(tokens):
        for i in range(len(tokens) - 2 * n + 1):
            if tokens[i:i + n] == tokens[i + n:i + 2 * n]:
                del tokens[i + n:i + 2 * n]
                break
        else:
            n += 1
    return tokens


def merge_adjacent_repeats(text: str) -> str:
    """Collapse repeated adjacent words, then repeated adjacent phrases."""
    words = text.split()
    merged = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
    if not merged:
        return ""
    tokens = _drop_repeated_phrases(_split_punctuation(" ".join(merged)))
    return " ".join(tokens).replace(f" {_GLUE} ", "")
