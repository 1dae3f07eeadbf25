"""GenerationService: load a model once, run generation requests on it.

Shared by the CLI (`codi-studio generate`, batch and eval) and the studio's
worker thread. Requests and results are plain media values; no tensor leaves.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from codi_studio.media.values import Modality
from codi_studio.service.requests import (
    CancelToken,
    GenerationRequest,
    GenerationResult,
    Progress,
    ProgressCallback,
)

DEFAULTS: dict[str, Any] = {"steps": 50, "guidance": 7.5, "sampler": "ddim"}


@dataclass(frozen=True)
class ModelInfo:
    id: str
    name: str
    content_hash: str
    modalities: tuple[str, ...]
    device: str
    folder: str


class GenerationService:
    """Holds at most one loaded model; loading a different one replaces it.

    Thread-safe in the simple way: one generation at a time (the studio runs
    jobs one by one on its worker thread anyway).
    """

    def __init__(self, device: str = "auto", model_store: str | None = None, offload: bool = False) -> None:
        self.device = device
        self.model_store = model_store
        self.offload = offload
        self.model_info: ModelInfo | None = None
        self._model: Any = None
        self._pipeline: Any = None
        self._lock = threading.Lock()

    def load_model(self, model: str | None = None) -> ModelInfo:
        """Open a model (None: the embedded default); cheap when it is already the loaded one."""
        from codi_studio.codi.model import CodiModel
        from codi_studio.codi.model_store import resolve
        from codi_studio.codi.pipeline import CodiPipeline

        folder = resolve(model, self.model_store)
        with self._lock:
            if self.model_info is not None and self.model_info.folder == str(folder):
                return self.model_info
            opened = CodiModel.open(folder, device=self.device, offload=self.offload)
            self._model = opened
            self._pipeline = CodiPipeline(opened)
            self.model_info = ModelInfo(
                id=opened.id,
                name=opened.config.name,
                content_hash=opened.content_hash,
                modalities=tuple(m.value for m in Modality),
                device=str(opened.device),
                folder=str(folder),
            )
            return self.model_info

    def defaults(self) -> dict[str, Any]:
        """Sampling defaults: the model's own (config extras 'defaults'), else CoDi's demo values."""
        merged = dict(DEFAULTS)
        if self._model is not None:
            merged.update(self._model.config.extras.get("defaults", {}))
        return merged

    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        previews: bool = True,
    ) -> GenerationResult:
        """Run one request; `progress` gets every step, with cheap previews unless `previews` is False."""
        if self.model_info is None or (request.model is not None and request.model not in
                                       (self.model_info.id, self.model_info.folder, self.model_info.name)):
            self.load_model(request.model)
        assert self._pipeline is not None and self.model_info is not None

        def on_step(step: int, total: int, previews: Any) -> None:
            if progress is not None:
                progress(Progress(step, total, dict(previews)))

        started = time.perf_counter()
        with self._lock:
            out = self._pipeline.generate(
                [(c.value, c.weight) for c in request.conditions],
                list(request.outputs),
                seed=request.seed,
                steps=request.steps,
                guidance=request.guidance,
                sampler=request.sampler,
                n_samples=request.n_samples,
                joint_mode=request.joint_mode,
                cancel=cancel,
                on_step=on_step,
                preview_every=5 if previews else 0,
            )
        timings = dict(out.timings)
        timings["wall_s"] = time.perf_counter() - started
        return GenerationResult(out.samples, self.model_info.id, self.model_info.content_hash, timings)
