"""GenerationService: load a model once, run generation requests on it.

Shared by the CLI (`codi-studio generate`), the eval and the studio's worker
thread. The integrator is filling this in; the signatures below are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

from codi_studio.service.requests import (
    CancelToken,
    GenerationRequest,
    GenerationResult,
    ProgressCallback,
)


@dataclass(frozen=True)
class ModelInfo:
    id: str
    name: str
    content_hash: str
    modalities: tuple[str, ...]
    device: str


class GenerationService:
    """Holds at most one loaded model; loading a different one replaces it."""

    def __init__(self, device: str = "auto", model_store: str | None = None) -> None:
        self.device = device
        self.model_store = model_store

    def load_model(self, model: str | None = None) -> ModelInfo:
        raise NotImplementedError("being written by the integrator")

    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GenerationResult:
        raise NotImplementedError("being written by the integrator")
