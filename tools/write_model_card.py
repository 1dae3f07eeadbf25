"""Write MODEL_CARD.md of a trained toy model from its config and a saved eval report.

    codi-studio eval --model models/toy-v1 ... > eval.md
    python tools/write_model_card.py models/toy-v1 --eval eval.md --note note.md [--notes training.md]

The card's training section comes from the model's config (the recipe and each
stage's figures, recorded by `codi-studio train`); the evaluation section is the
report as `codi-studio eval` printed it, introduced by the note (how it was run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codi_studio.toyworld.training import model_card


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="model folder (config.json)")
    parser.add_argument("--eval", type=Path, required=True, help="the printed report of codi-studio eval")
    parser.add_argument("--note", type=Path, required=True, help="markdown: how the eval was run, what it shows")
    parser.add_argument("--notes", type=Path, default=None, help="markdown: extra training notes")
    args = parser.parse_args()
    notes = args.notes.read_text() if args.notes else ""
    path = model_card.write(args.model, eval_table=args.eval.read_text().strip(),
                            eval_note=args.note.read_text().strip(), notes=notes.strip())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
