"""Background generation: a worker on a QThread and the queue that feeds it.

The worker owns the GenerationService (and so the only torch in the process
runs on its thread); it loads the model once and runs jobs one at a time. The
queue lives on the UI thread, hands the worker one job at a time through a
queued signal, and reports every change through its own signals, so widgets
never touch the worker directly.
"""

from __future__ import annotations

import itertools
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from codi_studio.service.generation import GenerationService
from codi_studio.service.requests import (
    CancelToken,
    GenerationCancelled,
    GenerationRequest,
    GenerationResult,
    Progress,
)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
PREVIEW_INTERVAL_S = 0.25  # previews are decoded media: send a few per second, not every step


@dataclass
class Job:
    id: int
    shot: str
    request: GenerationRequest
    label: str
    state: str = QUEUED
    step: int = 0
    total: int = 0
    eta: float | None = None
    message: str = ""
    cancel: CancelToken = field(default_factory=CancelToken)
    result: GenerationResult | None = None
    context: dict = field(default_factory=dict)  # what the window needs to record the result
    started_at: float | None = None
    seconds: float | None = None


class GenerationWorker(QObject):
    """Runs on its own QThread. Slots are called through queued connections."""

    modelLoaded = Signal(object)  # ModelInfo
    jobStarted = Signal(int)
    jobProgress = Signal(int, int, int, object, object)  # job id, step, total, eta seconds or None, previews
    jobFinished = Signal(int, object)  # job id, GenerationResult
    jobFailed = Signal(int, str)
    jobCancelled = Signal(int)

    def __init__(self, service_factory: Callable[[], GenerationService]) -> None:
        super().__init__()
        self._service_factory = service_factory
        self._service: GenerationService | None = None
        self._loaded_model: tuple[str | None] | None = None

    def _ensure_model(self, model: str | None) -> None:
        if self._service is None:
            self._service = self._service_factory()
        if self._loaded_model != (model,):
            info = self._service.load_model(model)
            self._loaded_model = (model,)
            self.modelLoaded.emit(info)

    @Slot(int, object, object)
    def run(self, job_id: int, request: GenerationRequest, cancel: CancelToken) -> None:
        if cancel.cancelled:
            self.jobCancelled.emit(job_id)
            return
        self.jobStarted.emit(job_id)
        started = time.monotonic()
        last_preview = [0.0]

        def on_progress(p: Progress) -> None:
            now = time.monotonic()
            eta = (now - started) / p.step * (p.total - p.step) if p.step > 0 else None
            previews = None
            if p.previews and (now - last_preview[0] >= PREVIEW_INTERVAL_S or p.step == p.total):
                previews = dict(p.previews)
                last_preview[0] = now
            self.jobProgress.emit(job_id, p.step, p.total, eta, previews)

        try:
            self._ensure_model(request.model)
            assert self._service is not None
            result = self._service.generate(request, progress=on_progress, cancel=cancel)
        except GenerationCancelled:
            self.jobCancelled.emit(job_id)
        except Exception as exc:  # every failure is shown in the queue, never kills the thread
            message = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            if cancel.cancelled:
                self.jobCancelled.emit(job_id)
            else:
                self.jobFailed.emit(job_id, message)
        else:
            if cancel.cancelled and not result.samples:
                self.jobCancelled.emit(job_id)
            else:
                self.jobFinished.emit(job_id, result)


class JobQueue(QObject):
    """Jobs in order; one runs at a time on the worker thread."""

    jobAdded = Signal(int)
    jobChanged = Signal(int)
    jobFinished = Signal(int)  # the result is on queue.job(id).result
    modelLoaded = Signal(object)
    _dispatch = Signal(int, object, object)

    def __init__(self, service_factory: Callable[[], GenerationService] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[int, Job] = {}
        self._order: list[int] = []
        self._ids = itertools.count(1)
        self._running: int | None = None
        self._thread = QThread()
        self._thread.setObjectName("codi-generation")
        self._worker = GenerationWorker(service_factory or (lambda: GenerationService("auto")))
        self._worker.moveToThread(self._thread)
        self._dispatch.connect(self._worker.run)
        self._worker.jobStarted.connect(self._on_started)
        self._worker.jobProgress.connect(self._on_progress)
        self._worker.jobFinished.connect(self._on_finished)
        self._worker.jobFailed.connect(self._on_failed)
        self._worker.jobCancelled.connect(self._on_cancelled)
        self._worker.modelLoaded.connect(self.modelLoaded)
        self._thread.start()

    # ---- reading ------------------------------------------------------------------------
    def job(self, job_id: int) -> Job:
        return self._jobs[job_id]

    @property
    def jobs(self) -> list[Job]:
        return [self._jobs[i] for i in self._order]

    @property
    def running(self) -> Job | None:
        return None if self._running is None else self._jobs[self._running]

    def is_idle(self) -> bool:
        return self._running is None and not any(j.state == QUEUED for j in self._jobs.values())

    # ---- control ------------------------------------------------------------------------
    def submit(self, shot: str, request: GenerationRequest, label: str, context: dict | None = None) -> int:
        job = Job(next(self._ids), shot, request, label, context=dict(context or {}))
        self._jobs[job.id] = job
        self._order.append(job.id)
        self.jobAdded.emit(job.id)
        self._next()
        return job.id

    def cancel(self, job_id: int) -> None:
        """Queued jobs are dropped at once; a running one stops within one sampling step."""
        job = self._jobs[job_id]
        job.cancel.cancel()
        if job.state == QUEUED:
            job.state = CANCELLED
            job.message = "cancelled before it started"
            self.jobChanged.emit(job_id)

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            if job.state in (QUEUED, RUNNING):
                self.cancel(job.id)

    def clear_finished(self) -> None:
        for job_id in list(self._order):
            if self._jobs[job_id].state in (DONE, FAILED, CANCELLED):
                self._order.remove(job_id)
                del self._jobs[job_id]
        self.jobChanged.emit(0)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel everything and stop the thread (called when the window closes)."""
        self.cancel_all()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    # ---- worker signals -------------------------------------------------------------------
    def _next(self) -> None:
        if self._running is not None:
            return
        for job_id in self._order:
            job = self._jobs[job_id]
            if job.state == QUEUED:
                self._running = job_id
                job.state = RUNNING
                job.message = "loading model" if job.step == 0 else ""
                self.jobChanged.emit(job_id)
                self._dispatch.emit(job_id, job.request, job.cancel)
                return

    def _on_started(self, job_id: int) -> None:
        job = self._jobs[job_id]
        job.started_at = time.monotonic()
        job.message = "starting"
        self.jobChanged.emit(job_id)

    def _on_progress(self, job_id: int, step: int, total: int, eta: object, previews: object) -> None:
        job = self._jobs[job_id]
        job.step, job.total = step, total
        job.eta = eta if isinstance(eta, float) else None
        job.message = ""
        if previews:
            job.context["previews"] = previews
        self.jobChanged.emit(job_id)

    def _finish(self, job_id: int, state: str, message: str = "") -> None:
        job = self._jobs[job_id]
        job.state = state
        job.message = message
        if job.started_at is not None:
            job.seconds = time.monotonic() - job.started_at
        self._running = None
        self.jobChanged.emit(job_id)
        self._next()

    def _on_finished(self, job_id: int, result: object) -> None:
        job = self._jobs[job_id]
        assert isinstance(result, GenerationResult)
        job.result = result
        job.context.pop("previews", None)
        self._running = None
        job.state = DONE
        if job.started_at is not None:
            job.seconds = time.monotonic() - job.started_at
        self.jobFinished.emit(job_id)  # recorded before the next job starts
        self.jobChanged.emit(job_id)
        self._next()

    def _on_failed(self, job_id: int, message: str) -> None:
        self._finish(job_id, FAILED, message)

    def _on_cancelled(self, job_id: int) -> None:
        self._finish(job_id, CANCELLED, "cancelled")
