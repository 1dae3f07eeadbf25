"""Import the official CoDi release files into the model store.

The release ships PyTorch pickles. They are read with
`torch.load(weights_only=True, mmap=True)`, which only rebuilds tensors and
refuses anything that needs code, every key is mapped onto this
implementation's names, the result is checked against the full-size model
built on the meta device (0 missing, 0 unexpected, every shape equal), and
only then written as safetensors into the store, atomically.
"""

from __future__ import annotations

import json
import pickle
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import torch
from safetensors.torch import save_file

from codi_studio.codi import components
from codi_studio.codi.config import ComponentSpec, ModelConfig
from codi_studio.codi.model_store import user_store_dir, write_hashes

RELEASE_FILES = {
    "CoDi_encoders.pth": "encoders and autoencoders (CLIP, CLAP, image/audio/text VAEs, vocoder)",
    "CoDi_video_diffuser_8frames.pth": "image/video UNet",
    "CoDi_text_diffuser.pth": "text UNet",
    "CoDi_audio_diffuser_m.pth": "audio UNet",
}
UNET_PARTS = {"unet_image": "image", "unet_text": "text", "unet_audio": "audio"}
# reference DDPM schedule buffers: rebuilt from the config's beta schedule
SCHEDULE_BUFFERS = frozenset({
    "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
    "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
    "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    "lvlb_weights", "logvar",
})
MAX_LISTED = 12


class ImportFailed(Exception):
    """The release files could not be imported; the message says which file and why."""


StateMap = Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]


def _unet_from_reference(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    from codi_studio.codi.unet.keymap import is_reference_unet_key, reference_key_to_ours

    return {reference_key_to_ours(k): v for k, v in state.items() if is_reference_unet_key(k)}


def _maps() -> dict[str, tuple[tuple[str, ...], StateMap]]:
    """component -> (reference prefixes it owns, converter of those entries to our names)."""
    from codi_studio.codi.autoencoders import keymaps as ak
    from codi_studio.codi.encoders import keymaps as ek

    return {
        "unet": (("model.diffusion_model.",), _unet_from_reference),
        "image_vae": (("autokl.",), ak.image_vae_state_from_reference),
        "audio_vae": (("audioldm.",), ak.audio_vae_state_from_reference),
        "vocoder": (("audioldm.vocoder.",), ak.vocoder_state_from_reference),
        "text_vae": (("optimus.",), ak.text_vae_state_from_reference),
        "clip": (("clip.",), ek.clip_state_dict_from_reference),
        "clap": (("clap.",), ek.clap_state_dict_from_reference),
    }


def _maps_to_reference() -> dict[str, StateMap]:
    """component -> converter of our names back to the reference's (for making release-format files)."""
    from codi_studio.codi.autoencoders import keymaps as ak
    from codi_studio.codi.encoders import keymaps as ek
    from codi_studio.codi.unet.keymap import our_key_to_reference

    def keys(fn: Callable[[str], str | None]) -> StateMap:
        return lambda state: {r: v for k, v in state.items() if (r := fn(k)) is not None}

    return {
        "unet": keys(our_key_to_reference),
        "image_vae": ak.image_vae_state_to_reference,
        "audio_vae": ak.audio_vae_state_to_reference,
        "vocoder": ak.vocoder_state_to_reference,
        "text_vae": ak.text_vae_state_to_reference,
        "clip": keys(ek.clip_key_to_reference),
        "clap": keys(ek.clap_key_to_reference),
    }


# ---------------------------------------------------------------------------------------------------- reading
def load_release_file(path: Path) -> dict[str, torch.Tensor]:
    """A release .pth as a flat name -> tensor dict; never runs code from the file."""
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as exc:
        raise ImportFailed(
            f"{path}: refused: this file needs code to load, so it is not a plain weights file "
            f"(it may be tampered with); nothing in it was run ({str(exc).splitlines()[0][:200]})"
        ) from None
    except (RuntimeError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ImportFailed(f"{path}: not a readable PyTorch checkpoint ({str(exc).splitlines()[0][:200]})") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ImportFailed(f"{path}: does not hold a state dict of tensors")
    return obj


# ---------------------------------------------------------------------------------------------------- checking
@dataclass
class Differences:
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shapes)

    def describe(self) -> str:
        parts = []
        for label, items in (("missing", self.missing), ("unexpected", self.unexpected),
                             ("wrong shape", self.shapes)):
            if items:
                shown = "; ".join(items[:MAX_LISTED])
                more = f" (+{len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
                parts.append(f"{len(items)} {label}: {shown}{more}")
        return "\n  ".join(parts)


def expected_state(spec: ComponentSpec) -> tuple[dict[str, tuple[int, ...]], set[str]]:
    """Names and shapes of the stored entries of a component (built on the meta device), and its buffers."""
    with torch.device("meta"):
        module = components.build(spec.type, spec.config)
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    buffers = {name for name, _ in module.named_buffers()}
    return shapes, buffers


def compare(name: str, ours: Mapping[str, torch.Tensor], spec: ComponentSpec) -> Differences:
    expected, buffers = expected_state(spec)
    diff = Differences()
    for key in sorted(expected):
        if key not in ours and key not in buffers:  # buffers are rebuilt from config
            diff.missing.append(f"{name}.{key}")
    for key in sorted(ours):
        if key not in expected:
            diff.unexpected.append(f"{name}.{key}")
        elif tuple(ours[key].shape) != expected[key]:
            diff.shapes.append(f"{name}.{key}: file {tuple(ours[key].shape)}, model {expected[key]}")
    return diff


# ---------------------------------------------------------------------------------------------------- import
def release_files(release_dir: Path) -> dict[str, Path]:
    present = {n: release_dir / n for n in RELEASE_FILES if (release_dir / n).is_file()}
    if not present:
        listed = ", ".join(RELEASE_FILES)
        raise ImportFailed(f"{release_dir}: none of the CoDi release files is there (expected any of: {listed})")
    return present


def convert_release(state: Mapping[str, torch.Tensor], config: ModelConfig) -> tuple[dict[str, dict[str, torch.Tensor]], ModelConfig]:
    """Reference-named entries -> per-component state dicts, checked against `config`.

    Components whose entries are absent altogether are dropped from the config (a
    partial release: say, only the video diffuser); anything else that does not fit
    raises ImportFailed listing every difference.
    """
    maps = _maps()
    claimed: set[str] = set()
    converted: dict[str, dict[str, torch.Tensor]] = {}
    for name, (prefixes, convert) in maps.items():
        own = {k: v for k, v in state.items() if k.startswith(prefixes)}
        if name == "audio_vae":
            own = {k: v for k, v in own.items() if not k.startswith("audioldm.vocoder.")}
        if not own:
            continue
        unknown = _unmappable(own, convert)
        claimed.update(k for k in own if k not in unknown)
        converted[name] = convert({k: v for k, v in own.items() if k not in unknown})
    stray = sorted(k for k in state if k not in claimed and k not in SCHEDULE_BUFFERS)

    comps = dict(config.components)
    if "unet" in converted:  # keep only the sub-UNets the files bring
        present = {k.split(".", 1)[0] for k in converted["unet"]}
        unet_cfg = dict(comps["unet"].config)
        for sub, part in UNET_PARTS.items():
            if sub not in present:
                unet_cfg[part] = None
        comps["unet"] = ComponentSpec(comps["unet"].type, unet_cfg, comps["unet"].file)
    comps = {n: s for n, s in comps.items() if n in converted or (s.file is None and n != "unet")}

    diff = Differences(unexpected=[f"{k} (no component takes it)" for k in stray])
    for name, ours in converted.items():
        if name not in comps:
            diff.unexpected.append(f"{name}: {len(ours)} entries, but the target config has no {name}")
            continue
        d = compare(name, ours, comps[name])
        diff.missing += d.missing
        diff.unexpected += d.unexpected
        diff.shapes += d.shapes
    if diff:
        raise ImportFailed("the weights do not fit CoDi's architecture:\n  " + diff.describe())
    new_config = ModelConfig(**{**config.__dict__, "components": comps})
    return converted, new_config


def _unmappable(own: Mapping[str, torch.Tensor], convert: StateMap) -> set[str]:
    """Entries the key map has no name for (reported as unexpected, not as a crash)."""
    try:
        convert(own)
        return set()
    except KeyError:
        pass
    bad = set()
    for key, value in own.items():
        try:
            convert({key: value})
        except KeyError as exc:
            if key in str(exc):
                bad.add(key)
        except Exception:  # a lone half of a pair (e.g. weight-norm g without v): not this key's fault
            pass
    return bad


def _shards(name: str, state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """The UNet is stored one file per sub-UNet, so a job reads only the one it runs."""
    if name != "unet":
        return {f"{name}.safetensors": state}
    out: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        out.setdefault(f"{key.split('.', 1)[0]}.safetensors", {})[key] = value
    return out


def import_release(
    release_dir: str | Path,
    store: str | Path | None = None,
    name: str = "codi-official",
    config: ModelConfig | None = None,
    tokenizers: str | Path | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Import the release files found in `release_dir`; returns the new model folder."""
    from tqdm import tqdm

    from codi_studio.codi.presets import official_config

    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        raise ImportFailed(f"{release_dir}: not a folder")
    files = release_files(release_dir)
    target_config = config or official_config(model_id=name)
    target_config = ModelConfig(**{**target_config.__dict__, "id": name})

    state: dict[str, torch.Tensor] = {}
    for path in tqdm(list(files.values()), desc="reading", unit="file", disable=not progress):
        part = load_release_file(path)
        clash = sorted(set(part) & set(state))
        if clash:
            raise ImportFailed(f"{path}: entries also found in another release file, e.g. {clash[:3]}")
        state.update(part)

    converted, final_config = convert_release(state, target_config)
    base = user_store_dir(store)
    base.mkdir(parents=True, exist_ok=True)
    final = base / name
    if final.exists() and not overwrite:
        raise ImportFailed(f"{final}: a model named {name!r} is already in the store (remove it or pick --name)")
    tmp = base / f".{name}.importing"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        comps = dict(final_config.components)
        writes = [(n, f, s) for n, st in converted.items() for f, s in _shards(n, st).items()]
        for comp_name, file_name, shard in tqdm(writes, desc="writing", unit="file", disable=not progress):
            save_file({k: v.contiguous() for k, v in shard.items()}, str(tmp / file_name))
        if "unet" in comps:
            shard_files = sorted(f for n, f, _ in writes if n == "unet")
            unet = comps["unet"]
            comps["unet"] = ComponentSpec(unet.type, unet.config, None, tuple(shard_files))
        final_config = ModelConfig(**{**final_config.__dict__, "components": comps,
                                      "extras": {**final_config.extras,
                                                 "imported_from": sorted(files),
                                                 "missing_release_files": sorted(set(RELEASE_FILES) - set(files))}})
        if tokenizers is not None:
            shutil.copytree(Path(tokenizers), tmp / "tokenizers")
        final_config.save(tmp)
        write_hashes(tmp)
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def write_release_files(folder: Path, states: Mapping[str, Mapping[str, torch.Tensor]]) -> list[Path]:
    """Our per-component states -> release-format .pth files (reference names), as the release splits them.

    Used to make synthetic release files for tests and to check round trips.
    """
    to_ref = _maps_to_reference()
    merged: dict[str, torch.Tensor] = {}
    for name, state in states.items():
        merged.update(to_ref[name](state))
    split = {
        "CoDi_encoders.pth": lambda k: k.startswith(("clip.", "clap.", "autokl.", "audioldm.", "optimus.")),
        "CoDi_video_diffuser_8frames.pth": lambda k: k.startswith("model.diffusion_model.unet_image."),
        "CoDi_text_diffuser.pth": lambda k: k.startswith("model.diffusion_model.unet_text."),
        "CoDi_audio_diffuser_m.pth": lambda k: k.startswith("model.diffusion_model.unet_audio."),
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, owns in split.items():
        part = {k: v for k, v in merged.items() if owns(k)}
        if part:
            torch.save(part, folder / file_name)
            written.append(folder / file_name)
    return written


def summarize(folder: Path) -> dict[str, object]:
    config = ModelConfig.load(folder)
    return {"id": config.id, "components": sorted(config.components),
            "files": sorted(p.name for p in folder.glob("*.safetensors")),
            "extras": json.loads(json.dumps(config.extras, default=str))}


__all__: Iterable[str] = ["ImportFailed", "import_release", "load_release_file", "write_release_files"]
