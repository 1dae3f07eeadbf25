"""Running one generation job end to end: read inputs, generate, write files and a manifest.

Used by `codi-studio generate` (single and batch); the studio records into a
project instead of a folder, through the same GenerationService.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codi_studio.media.values import Audio, Image, MediaValue, Modality, Text, Video
from codi_studio.service.requests import Condition, GenerationRequest, GenerationResult, Progress

if TYPE_CHECKING:
    from codi_studio.cli.generate import InputSpec, JobSpec
    from codi_studio.service.generation import GenerationService

CONDITION_FRAMES = 32
OUTPUT_FILES = {Modality.TEXT: "text.txt", Modality.IMAGE: "image.png", Modality.AUDIO: "audio.wav",
                Modality.VIDEO: "video.mp4"}


def read_input(spec: "InputSpec") -> MediaValue:
    """A condition's media value, read through the media layer (errors name the file)."""
    from codi_studio.media import read_audio, read_image, read_video

    if spec.modality is Modality.TEXT:
        return Text(spec.value)
    if spec.modality is Modality.IMAGE:
        return read_image(spec.value)
    if spec.modality is Modality.AUDIO:
        return read_audio(spec.value)
    # a condition needs a few frames spread over the clip, never every frame of a long video
    return read_video(spec.value, n_frames=CONDITION_FRAMES)


def request_for(service: "GenerationService", job: "JobSpec", joint_mode: str | None) -> GenerationRequest:
    defaults = service.defaults()
    conditions = [Condition(read_input(s), s.weight, s.value if s.modality is not Modality.TEXT else None)
                  for s in job.inputs]
    return GenerationRequest(
        conditions=conditions,
        outputs=list(job.outputs),
        seed=job.seed,
        steps=int(job.steps or defaults["steps"]),
        guidance=float(job.guidance if job.guidance is not None else defaults["guidance"]),
        sampler=str(job.sampler or defaults["sampler"]),
        n_samples=job.n_samples,
        model=service.model_info.id if service.model_info else None,
        joint_mode=joint_mode,
    )


def _printer(enabled: bool):
    started = time.perf_counter()

    def show(p: Progress) -> None:
        if not enabled:
            return
        elapsed = time.perf_counter() - started
        eta = elapsed / max(p.step, 1) * (p.total - p.step)
        end = "\n" if p.step == p.total else ""
        print(f"\rstep {p.step}/{p.total}  eta {eta:4.1f} s", end=end, file=sys.stderr, flush=True)

    return show


def write_outputs(folder: Path, sample: dict[Modality, MediaValue], suffix: str = "",
                  metadata: dict[str, str] | None = None) -> list[Path]:
    """Write each output; a generated video gets the generated audio muxed in when both exist.

    PNGs carry the generation parameters in text chunks, as other diffusion tools do.
    """
    from codi_studio.media import write_mp4, write_png, write_text, write_wav

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for modality, value in sample.items():
        stem, ext = OUTPUT_FILES[modality].split(".")
        path = folder / f"{stem}{suffix}.{ext}"
        if isinstance(value, Text):
            write_text(path, value)
        elif isinstance(value, Image):
            write_png(path, value, metadata=metadata)
        elif isinstance(value, Audio):
            write_wav(path, value)
        elif isinstance(value, Video):
            sound = sample.get(Modality.AUDIO)
            if isinstance(sound, Audio) and value.audio is None:
                value = Video(value.frames, value.fps, sound)
            write_mp4(path, value)
        written.append(path)
    return written


def manifest_for(job: "JobSpec", request: GenerationRequest, result: GenerationResult,
                 files: list[Path]) -> dict[str, Any]:
    return {
        "inputs": [
            {"modality": s.modality.value, **({"text": s.value} if s.modality is Modality.TEXT else {"path": s.value}),
             "weight": s.weight}
            for s in job.inputs
        ],
        "outputs": [m.value for m in request.outputs],
        "seed": request.seed,
        "steps": request.steps,
        "guidance": request.guidance,
        "sampler": request.sampler,
        "n_samples": request.n_samples,
        "joint_mode": request.joint_mode,
        "model": {"id": result.model_id, "hash": result.model_hash},
        "timings": dict(result.timings),
        "files": [f.name for f in files],
    }


def run_job(service: "GenerationService", job: "JobSpec", *, joint_mode: str | None = None,
            project: Path | None = None, show_progress: bool = True) -> list[Path]:
    request = request_for(service, job, joint_mode)
    # the terminal shows step counts only: no preview decoding
    result = service.generate(request, progress=_printer(show_progress) if show_progress else None, previews=False)
    files: list[Path] = []
    params = manifest_for(job, request, result, [])
    params.pop("files")
    metadata = {"parameters": json.dumps(params), "Software": "CoDi Studio"}
    for index, sample in enumerate(result.samples):
        suffix = "" if len(result.samples) == 1 else f"-{index + 1}"
        files += write_outputs(job.out, dict(sample), suffix=suffix, metadata=metadata)
    manifest = manifest_for(job, request, result, files)
    if project is not None:
        from codi_studio.service.project_recording import record_generation

        manifest["project_versions"] = record_generation(project, request, result)
    path = job.out / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(path)
    return [*files, path]
