"""Plain, immutable records the store hands out and takes in.

Callers (CLI, studio, generation service) never see ORM objects: every
method of `Project` returns these dataclasses, and `Recipe` is how a
generation's settings come in. All are JSON-friendly via `to_dict()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping

from codi_studio.media.values import MediaValue, Modality

MODALITIES: tuple[str, ...] = tuple(m.value for m in Modality)
TRACK_ROLES: tuple[str, ...] = ("condition", "output")
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")
ORIGINS: tuple[str, ...] = ("import", "generation", "input", "value")
_MODALITY_SET = frozenset(MODALITIES)


def modality_name(value: Modality | str) -> str:
    """'image' for Modality.IMAGE or ' Image '; a clear ValueError otherwise."""
    if type(value) is str and value in _MODALITY_SET:  # the common case, on every record read
        return value
    return Modality.parse(value.value if isinstance(value, Modality) else str(value)).value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class RecipeInput:
    """One input of a generation.

    Exactly one of `version_id` (a stored version), `text` (an inline text
    condition) or `value` (a media value not yet in the store: it is stored,
    deduplicated, when the generation is recorded) must be given.
    """

    modality: str
    weight: float = 1.0
    version_id: int | None = None
    text: str | None = None
    value: MediaValue | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "modality", modality_name(self.modality))
        given = sum(x is not None for x in (self.version_id, self.text, self.value))
        if given != 1:
            raise ValueError("a recipe input needs exactly one of version_id, text or value")
        if self.weight < 0:
            raise ValueError(f"input weight must not be negative, got {self.weight}")
        if self.text is not None and self.modality != "text":
            raise ValueError("inline text is only for text inputs")

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "weight": self.weight, "version_id": self.version_id, "text": self.text}


@dataclass(frozen=True)
class Recipe:
    """Everything needed to make a generation again: model, sampler settings, seed, inputs."""

    model_id: str
    model_hash: str
    sampler: str
    steps: int
    guidance: float
    seed: int
    outputs: tuple[str, ...]
    inputs: tuple[RecipeInput, ...] = ()
    n_samples: int = 1
    joint_mode: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        outputs = tuple(modality_name(m) for m in self.outputs)
        if not outputs or len(set(outputs)) != len(outputs):
            raise ValueError("a recipe needs at least one output modality, none repeated")
        object.__setattr__(self, "outputs", outputs)
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "extra", dict(self.extra))
        if self.steps < 1 or self.n_samples < 1:
            raise ValueError("steps and n_samples must be at least 1")

    @property
    def prompt(self) -> str:
        """The text inputs joined (inline text and Text values): what prompt search looks at."""
        return self.prompt_text()

    def prompt_text(self) -> str:
        texts = [i.text if i.text is not None else getattr(i.value, "text", None) for i in self.inputs]
        return "\n".join(t for t in texts if isinstance(t, str))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_hash": self.model_hash,
            "sampler": self.sampler,
            "steps": self.steps,
            "guidance": self.guidance,
            "seed": self.seed,
            "outputs": list(self.outputs),
            "inputs": [i.to_dict() for i in self.inputs],
            "n_samples": self.n_samples,
            "joint_mode": self.joint_mode,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Recipe":
        inputs = tuple(
            RecipeInput(
                modality=i["modality"],
                weight=float(i.get("weight", 1.0)),
                version_id=i.get("version_id"),
                text=i.get("text"),
            )
            for i in data.get("inputs", ())
        )
        return cls(
            model_id=str(data["model_id"]),
            model_hash=str(data["model_hash"]),
            sampler=str(data["sampler"]),
            steps=int(data["steps"]),
            guidance=float(data["guidance"]),
            seed=int(data["seed"]),
            outputs=tuple(data["outputs"]),
            inputs=inputs,
            n_samples=int(data.get("n_samples", 1)),
            joint_mode=data.get("joint_mode"),
            extra=dict(data.get("extra", {})),
        )


class _Record:
    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class ProjectInfo(_Record):
    path: str
    name: str
    created_at: datetime
    schema_version: int
    read_only: bool
    fps: float
    tracks: int
    clips: int
    assets: int
    versions: int
    generations: int
    jobs: int
    blobs: int
    media_bytes: int
    file_bytes: int


@dataclass(frozen=True)
class MediaFacts(_Record):
    """What is known about a stored medium without decoding it again."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    has_audio: bool | None = None


@dataclass(frozen=True)
class VersionRecord(_Record):
    id: int
    asset_id: int
    number: int  # 1, 2, ... within its asset
    modality: str
    origin: str  # import | generation | input | value
    content_hash: str  # sha256 hex of the stored bytes
    size_bytes: int
    format: str  # file extension of the stored bytes: png, wav, mp4, txt, jpg, ...
    source_name: str | None
    facts: MediaFacts
    created_at: datetime
    deleted: bool
    generation_id: int | None = None
    sample_index: int | None = None
    recipe: Recipe | None = None

    def to_dict(self) -> dict[str, Any]:
        data = _jsonable(asdict(self))
        data["recipe"] = self.recipe.to_dict() if self.recipe else None
        return data


@dataclass(frozen=True)
class AssetRecord(_Record):
    id: int
    modality: str
    name: str
    origin: str
    created_at: datetime
    deleted: bool
    version_count: int
    latest_version_id: int | None


@dataclass(frozen=True)
class ClipRecord(_Record):
    id: int
    track_id: int
    start: float  # seconds on the timeline
    duration: float  # seconds on the timeline
    in_point: float  # seconds into the source where the clip begins
    weight: float  # mixing weight when the clip conditions a generation
    asset_id: int | None
    version_id: int | None  # the version shown: the picked one, else the asset's latest live one
    picked_version_id: int | None  # the version picked explicitly, if any
    text: str | None  # text clips hold their text
    deleted: bool

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def out_point(self) -> float:
        return self.in_point + self.duration


@dataclass(frozen=True)
class TrackRecord(_Record):
    id: int
    kind: str
    role: str
    position: int
    name: str
    muted: bool
    locked: bool
    clips: tuple[ClipRecord, ...] = ()


@dataclass(frozen=True)
class GenerationRecord(_Record):
    id: int
    recipe: Recipe
    created_at: datetime
    versions: tuple[VersionRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recipe": self.recipe.to_dict(),
            "created_at": self.created_at.isoformat(),
            "versions": [v.to_dict() for v in self.versions],
        }


@dataclass(frozen=True)
class JobRecord(_Record):
    id: int
    status: str
    request: Mapping[str, Any]
    clip_ids: tuple[int, ...]
    generation_id: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class LineageInput(_Record):
    modality: str
    weight: float
    text: str | None
    source: "LineageNode | None"  # the version used as input, with its own lineage


@dataclass(frozen=True)
class LineageNode(_Record):
    version: VersionRecord
    inputs: tuple[LineageInput, ...]

    def ancestors(self) -> list[int]:
        """Version ids of every input, depth first, each once."""
        seen: list[int] = []
        stack = [self]
        while stack:
            node = stack.pop()
            for inp in node.inputs:
                if inp.source is not None and inp.source.version.id not in seen:
                    seen.append(inp.source.version.id)
                    stack.append(inp.source)
        return seen


@dataclass(frozen=True)
class PurgeReport(_Record):
    clips: int
    versions: int
    assets: int
    blobs: int
    bytes_freed: int  # media bytes no longer stored
    file_bytes_before: int
    file_bytes_after: int
