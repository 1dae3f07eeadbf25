"""The FTS5 prompt index (`generations_fts`), kept in step with `generations` by our own writes.

Triggers cannot do it: connections run with trusted_schema=OFF, under which
SQLite refuses virtual tables inside triggers.
"""

from __future__ import annotations

import re
from typing import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session


def add_to_prompt_index(s: Session, generation_id: int, prompt: str) -> None:
    s.execute(text("INSERT INTO generations_fts (rowid, prompt) VALUES (:id, :prompt)"), {"id": generation_id, "prompt": prompt})


def remove_from_prompt_index(s: Session, generation_ids: Sequence[int]) -> None:
    """Call before deleting the generations rows (the index needs the old prompt to forget it)."""
    for generation_id in generation_ids:
        s.execute(
            text(
                "INSERT INTO generations_fts (generations_fts, rowid, prompt) "
                "SELECT 'delete', id, prompt FROM generations WHERE id = :id"
            ),
            {"id": generation_id},
        )


def fts_query(words: str) -> str:
    """User words -> an FTS5 query: every word must appear, the last one as a prefix (search as you type).

    Each word is quoted, so no FTS syntax (AND, NEAR, quotes, parentheses) leaks through.
    """
    tokens = re.findall(r"\w+", words, flags=re.UNICODE)
    return " ".join(f'"{t}"' for t in tokens[:-1]) + (f' "{tokens[-1]}"*' if tokens else "")

