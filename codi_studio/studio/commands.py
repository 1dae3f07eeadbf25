"""Undo commands: every timeline edit is one of these, pushed on the QUndoStack.

Each command stores the clips before and after, so undo and redo are plain
replacements and never recompute anything that could drift.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from PySide6.QtGui import QUndoCommand

from codi_studio.studio.timeline_model import Clip, Shot, TimelineModel, Track, split, trimmed


class _ClipsCommand(QUndoCommand):
    """Replaces a set of clips by another set (either side may be empty)."""

    def __init__(self, model: TimelineModel, text: str, before: Sequence[Clip], after: Sequence[Clip]) -> None:
        super().__init__(text)
        self._model = model
        self._before = list(before)
        self._after = list(after)

    def _swap(self, old: Sequence[Clip], new: Sequence[Clip]) -> None:
        new_ids = {c.uid for c in new}
        for c in old:
            if c.uid not in new_ids and self._model.has_clip(c.uid):
                self._model.remove_clip(c.uid)
        for c in new:
            if self._model.has_clip(c.uid):
                self._model.update_clip(c)
            else:
                self._model.add_clip(c)

    def redo(self) -> None:
        self._swap(self._before, self._after)

    def undo(self) -> None:
        self._swap(self._after, self._before)


class AddClipsCommand(_ClipsCommand):
    def __init__(self, model: TimelineModel, clips: Iterable[Clip], text: str = "Add clip") -> None:
        super().__init__(model, text, [], list(clips))


class RemoveClipsCommand(_ClipsCommand):
    def __init__(self, model: TimelineModel, uids: Iterable[str]) -> None:
        clips = _with_links(model, uids)
        super().__init__(model, "Delete clip" if len(clips) == 1 else f"Delete {len(clips)} clips", clips, [])


class MoveClipsCommand(_ClipsCommand):
    """Moves clips (and their generated partners) by `delta` seconds, optionally onto another track."""

    def __init__(
        self, model: TimelineModel, uids: Iterable[str], delta: float, track_changes: dict[str, str] | None = None
    ) -> None:
        before = _with_links(model, uids)
        # never move a clip before zero: clamp the whole group by its earliest clip
        delta = max(delta, -min(c.start for c in before)) if before else delta
        changes = track_changes or {}
        after = [replace(c, start=c.start + delta, track=changes.get(c.uid, c.track)) for c in before]
        super().__init__(model, "Move clip" if len(before) == 1 else f"Move {len(before)} clips", before, after)


class TrimClipCommand(_ClipsCommand):
    def __init__(self, model: TimelineModel, uid: str, edge: str, time: float) -> None:
        clip = model.clip(uid)
        super().__init__(model, "Trim clip", [clip], [trimmed(clip, edge, time)])


class SplitClipCommand(_ClipsCommand):
    def __init__(self, model: TimelineModel, uid: str, time: float) -> None:
        clip = model.clip(uid)
        head, tail = split(clip, time)
        super().__init__(model, "Split clip", [clip], [head, tail])


class EditClipCommand(_ClipsCommand):
    """A property change from the inspector (weight, text, version...)."""

    def __init__(self, model: TimelineModel, new: Clip, text: str = "Edit clip") -> None:
        super().__init__(model, text, [model.clip(new.uid)], [new])

    def id(self) -> int:  # consecutive edits of one clip's fields merge into one undo step
        return 7001

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditClipCommand) or other._after[0].uid != self._after[0].uid:
            return False
        if other.text() != self.text():
            return False
        self._after = other._after
        return True


class _ShotCommand(QUndoCommand):
    def __init__(self, model: TimelineModel, text: str, before: Shot | None, after: Shot | None) -> None:
        super().__init__(text)
        self._model = model
        self._before = before
        self._after = after

    def _apply(self, old: Shot | None, new: Shot | None) -> None:
        if new is None and old is not None:
            self._model.remove_shot(old.uid)
        elif new is not None and self._model.has_shot(new.uid):
            self._model.update_shot(new)
        elif new is not None:
            self._model.add_shot(new)

    def redo(self) -> None:
        self._apply(self._before, self._after)

    def undo(self) -> None:
        self._apply(self._after, self._before)


class AddShotCommand(_ShotCommand):
    def __init__(self, model: TimelineModel, shot: Shot) -> None:
        super().__init__(model, "Mark shot", None, shot)


class RemoveShotCommand(_ShotCommand):
    def __init__(self, model: TimelineModel, uid: str) -> None:
        super().__init__(model, "Remove shot", model.shot(uid), None)


class EditShotCommand(_ShotCommand):
    def __init__(self, model: TimelineModel, new: Shot, text: str = "Edit shot") -> None:
        super().__init__(model, text, model.shot(new.uid), new)

    def id(self) -> int:
        return 7002

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditShotCommand) or other._after is None or self._after is None:
            return False
        if other._after.uid != self._after.uid or other.text() != self.text():
            return False
        self._after = other._after
        return True


class EditTrackCommand(QUndoCommand):
    """Mute, lock or rename a track."""

    def __init__(self, model: TimelineModel, new: Track, text: str = "Edit track") -> None:
        super().__init__(text)
        self._model = model
        self._before = model.track(new.uid)
        self._after = new

    def redo(self) -> None:
        self._model.replace_track(self._after)

    def undo(self) -> None:
        self._model.replace_track(self._before)


def _with_links(model: TimelineModel, uids: Iterable[str]) -> list[Clip]:
    seen: dict[str, Clip] = {}
    for uid in uids:
        for c in model.linked(uid):
            seen[c.uid] = c
    return list(seen.values())
