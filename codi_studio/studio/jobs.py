"""Background generation: a worker on a QThread and the queue that feeds it.

The worker owns the GenerationService (and so the only torch in the process
runs on its thread); it loads the model once and runs jobs one at a time. The
queue lives on the UI thread, hands the worker one job at a time, and reports
every change through its own signals, so widgets never touch the worker.
Between the threads go plain Python queues, never Qt signals (see
thread_bridge.py for why).
"""

from __future__ import annotations

import atexit
import itertools
import queue
import time
import traceback
import weakref
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QObject, Signal

from codi_studio.service.generation import GenerationService
from codi_studio.service.requests import (
    CancelToken,
    GenerationCancelled,
    GenerationRequest,
    GenerationResult,
    Progress,
)
from codi_studio.studio.thread_bridge import EventPump, PostingThread

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
    context: dict = field(default_factory=dict)  # what the window needs to place the result
    # runs on the worker thread right after generating (e.g. writing the result to the project), so the
    # UI thread never pays for encoding or storing; its return value lands on `recorded`
    after: Callable[[GenerationResult], object] | None = None
    recorded: object = None
    started_at: float | None = None
    seconds: float | None = None


_STOP = -1


class GenerationWorker:
    """Lives on the generation thread: takes (job id, request, cancel) from its inbox and runs them."""

    def __init__(self, service_factory: Callable[[], GenerationService]) -> None:
        self._service_factory = service_factory
        self._service: GenerationService | None = None
        self._loaded_model: tuple[str | None] | None = None
        self.inbox: "queue.Queue[tuple[int, Job | None]]" = queue.Queue()

    def loop(self, post: Callable[..., None]) -> None:
        while True:
            job_id, job = self.inbox.get()
            if job_id == _STOP or job is None:
                return
            self.run(job_id, job.request, job.cancel, post, job.after)

    def _ensure_model(self, model: str | None, post: Callable[..., None]) -> None:
        if self._service is None:
            self._service = self._service_factory()
        if self._loaded_model != (model,):
            info = self._service.load_model(model)
            self._loaded_model = (model,)
            post("model", f"{info.name} on {info.device}")

    def run(self, job_id: int, request: GenerationRequest, cancel: CancelToken, post: Callable[..., None],
            after: Callable[[GenerationResult], object] | None = None) -> None:
        if cancel.cancelled:
            post("cancelled", job_id)
            return
        post("started", job_id)
        started = time.monotonic()
        last_preview = [0.0]

        def on_progress(p: Progress) -> None:
            now = time.monotonic()
            eta = (now - started) / p.step * (p.total - p.step) if p.step > 0 else None
            previews = None
            if p.previews and (now - last_preview[0] >= PREVIEW_INTERVAL_S or p.step == p.total):
                previews = dict(p.previews)
                last_preview[0] = now
            post("progress", job_id, p.step, p.total, eta, previews)

        try:
            self._ensure_model(request.model, post)
            assert self._service is not None
            result = self._service.generate(request, progress=on_progress, cancel=cancel)
            recorded = after(result) if after is not None else None
        except GenerationCancelled:
            post("cancelled", job_id)
        except Exception as exc:  # every failure is shown in the queue, never kills the thread
            traceback.print_exc()
            if cancel.cancelled:
                post("cancelled", job_id)
            else:
                post("failed", job_id, f"{type(exc).__name__}: {exc}")
        else:
            post("finished", job_id, result, recorded)


class JobQueue(QObject):
    """Jobs in order; one runs at a time on the worker thread."""

    jobAdded = Signal(int)
    jobChanged = Signal(int)
    jobFinished = Signal(int)  # the result is on queue.job(id).result
    modelLoaded = Signal(str)

    def __init__(self, service_factory: Callable[[], GenerationService] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[int, Job] = {}
        self._order: list[int] = []
        self._ids = itertools.count(1)
        self._running: int | None = None
        self._worker = GenerationWorker(service_factory or (lambda: GenerationService("auto")))
        outbox: "queue.Queue[tuple]" = queue.Queue()
        self._thread = PostingThread(self._worker.loop, outbox, "codi-generation")
        self._pump = EventPump(outbox, {
            "model": self.modelLoaded.emit,
            "started": self._on_started,
            "progress": self._on_progress,
            "finished": self._on_finished,
            "failed": self._on_failed,
            "cancelled": self._on_cancelled,
        }, self)
        self._thread.start()
        # a script that ends without closing the window must not destroy a running QThread (Qt aborts)
        ref = weakref.ref(self)
        atexit.register(lambda: (q := ref()) is not None and q.shutdown())

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
    def submit(self, shot: str, request: GenerationRequest, label: str, context: dict | None = None,
               after: Callable[[GenerationResult], object] | None = None) -> int:
        job = Job(next(self._ids), shot, request, label, context=dict(context or {}), after=after)
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

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Runs the event loop until no job is running (after cancel_all: within one sampling step)."""
        from PySide6.QtCore import QCoreApplication, QEventLoop  # noqa: PLC0415

        deadline = time.monotonic() + timeout_s
        while self._running is not None and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            self._pump.drain()
        return self._running is None

    def clear_finished(self) -> None:
        for job_id in list(self._order):
            if self._jobs[job_id].state in (DONE, FAILED, CANCELLED):
                self._order.remove(job_id)
                del self._jobs[job_id]
        self.jobChanged.emit(0)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel everything and stop the thread (called when the window closes)."""
        try:
            self.cancel_all()
            if self._thread.isRunning():
                self._worker.inbox.put((_STOP, None))
                self._thread.wait(timeout_ms)
            self._pump.stop()
        except RuntimeError:  # the C++ side is already gone (interpreter shutdown)
            pass

    # ---- events from the worker (run on the UI thread by the pump) ------------------------
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
                self._worker.inbox.put((job_id, job))
                self._pump.start()
                return

    def _on_started(self, job_id: int) -> None:
        job = self._jobs[job_id]
        job.started_at = time.monotonic()
        job.message = "starting"
        self.jobChanged.emit(job_id)

    def _on_progress(self, job_id: int, step: int, total: int, eta: float | None, previews: dict | None) -> None:
        job = self._jobs[job_id]
        job.step, job.total = step, total
        job.eta = eta
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
        self._stop_pump_when_idle()

    def _on_finished(self, job_id: int, result: GenerationResult, recorded: object) -> None:
        job = self._jobs[job_id]
        job.result = result
        job.recorded = recorded
        job.context.pop("previews", None)
        self._running = None
        job.state = DONE
        if job.started_at is not None:
            job.seconds = time.monotonic() - job.started_at
        self.jobFinished.emit(job_id)  # recorded before the next job starts
        self.jobChanged.emit(job_id)
        self._next()
        self._stop_pump_when_idle()

    def _stop_pump_when_idle(self) -> None:
        if self._running is None:
            self._pump.stop()

    def _on_failed(self, job_id: int, message: str) -> None:
        self._finish(job_id, FAILED, message)

    def _on_cancelled(self, job_id: int) -> None:
        self._finish(job_id, CANCELLED, "cancelled")
