"""Where models live, and how a model name becomes a folder.

Two places: the embedded default shipped in the repository's `models/`
(read-only, always there), and the user's model store (a platformdirs data
folder, or `--store` / CODI_STUDIO_MODEL_STORE) where imported models go.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from codi_studio.codi.config import ModelConfig, ModelConfigError

DEFAULT_MODEL = "toy-v1"
HASHES_FILE = "hashes.json"


class ModelNotFound(Exception):
    pass


def embedded_models_dir() -> Path:
    env = os.environ.get("CODI_STUDIO_EMBEDDED_MODELS")
    if env:
        return Path(env)
    import codi_studio

    return Path(codi_studio.__file__).resolve().parents[1] / "models"


def user_store_dir(store: str | os.PathLike[str] | None = None) -> Path:
    if store is not None:
        return Path(store)
    env = os.environ.get("CODI_STUDIO_MODEL_STORE")
    if env:
        return Path(env)
    return Path(user_data_dir("codi-studio", appauthor=False)) / "models"


@dataclass(frozen=True)
class StoredModel:
    name: str
    folder: Path
    embedded: bool
    config: ModelConfig

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())


def resolve(model: str | None, store: str | os.PathLike[str] | None = None) -> Path:
    """A model name (store or embedded) or a folder path -> the model's folder."""
    name = model or DEFAULT_MODEL
    as_path = Path(name).expanduser()
    if (as_path / "config.json").is_file():
        return as_path
    for base in (user_store_dir(store), embedded_models_dir()):
        candidate = base / name
        if (candidate / "config.json").is_file():
            return candidate
    known = ", ".join(m.name for m in list_models(store)) or "none"
    raise ModelNotFound(f"model {name!r} not found (known models: {known})")


def list_models(store: str | os.PathLike[str] | None = None) -> list[StoredModel]:
    found: dict[str, StoredModel] = {}
    for base, embedded in ((embedded_models_dir(), True), (user_store_dir(store), False)):
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if (p / "config.json").is_file()):
            try:
                config = ModelConfig.load(folder)
            except ModelConfigError:
                continue
            found[folder.name] = StoredModel(folder.name, folder, embedded, config)
    return list(found.values())


def info(model: str | None, store: str | os.PathLike[str] | None = None) -> StoredModel:
    folder = resolve(model, store)
    embedded = folder.resolve().parent == embedded_models_dir().resolve()
    return StoredModel(folder.name, folder, embedded, ModelConfig.load(folder))


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*.safetensors"))


def write_hashes(folder: Path) -> dict[str, str]:
    """Record every weight file's sha256 so that `verify` can find damage later."""
    hashes = {str(p.relative_to(folder)): file_sha256(p) for p in weight_files(folder)}
    tmp = Path(folder) / (HASHES_FILE + ".tmp")
    tmp.write_text(json.dumps(hashes, indent=1, sort_keys=True))
    tmp.replace(Path(folder) / HASHES_FILE)
    return hashes


def content_hash(folder: Path) -> str:
    """One hash for the model: of its config and recorded weight hashes (cheap once hashes.json exists)."""
    folder = Path(folder)
    hashes_path = folder / HASHES_FILE
    if hashes_path.is_file():
        hashes = json.loads(hashes_path.read_text())
    else:
        hashes = {str(p.relative_to(folder)): file_sha256(p) for p in weight_files(folder)}
    h = hashlib.sha256((folder / "config.json").read_bytes())
    for name in sorted(hashes):
        h.update(f"{name}={hashes[name]}\n".encode())
    return h.hexdigest()[:16]


def verify(model: str | None, store: str | os.PathLike[str] | None = None) -> list[str]:
    """Problems found (empty when the model is intact)."""
    folder = resolve(model, store)
    problems: list[str] = []
    try:
        config = ModelConfig.load(folder)
    except ModelConfigError as exc:
        return [str(exc)]
    for name, spec in config.components.items():
        if spec.file and not (folder / spec.file).is_file():
            problems.append(f"{name}: weight file {spec.file} is missing")
    hashes_path = folder / HASHES_FILE
    if not hashes_path.is_file():
        problems.append(f"{HASHES_FILE} is missing: cannot check weight files")
        return problems
    recorded = json.loads(hashes_path.read_text())
    for rel, digest in sorted(recorded.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif file_sha256(path) != digest:
            problems.append(f"{rel}: sha256 differs from the one recorded at import (file damaged or changed)")
    return problems


def remove(model: str, store: str | os.PathLike[str] | None = None) -> Path:
    folder = resolve(model, store)
    if folder.resolve().parent == embedded_models_dir().resolve():
        raise ValueError(f"{model!r} is the embedded default model and cannot be removed")
    if folder.resolve().parent != user_store_dir(store).resolve():
        raise ValueError(f"{folder} is not in the model store; remove it by hand if you mean to")
    shutil.rmtree(folder)
    return folder
