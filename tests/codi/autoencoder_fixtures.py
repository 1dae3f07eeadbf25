"""Helpers shared by the autoencoder tests: reading reference parity fixtures from tests/fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

DATA = Path(__file__).resolve().parents[1] / "fixtures"
PARITY = DATA / "parity"
MANIFEST = DATA / "manifest" / "codi_full.json"


def load_fixture(name: str) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(meta, params, inputs, outputs) of tests/fixtures/parity/<name>.{json,safetensors}."""
    meta = json.loads((PARITY / f"{name}.json").read_text())
    tensors = load_file(str(PARITY / f"{name}.safetensors"))
    split: dict[str, dict[str, torch.Tensor]] = {"param": {}, "input": {}, "output": {}}
    for key, value in tensors.items():
        kind, _, rest = key.partition(".")
        split[kind][rest] = value
    return meta, split["param"], split["input"], split["output"]


def load_manifest() -> dict[str, dict]:
    return json.loads(MANIFEST.read_text())
