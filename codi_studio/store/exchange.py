"""Getting a project out and in: whole-project bundles and OpenTimelineIO cuts."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from codi_studio import __version__
from codi_studio.store.blobs import CHUNK_SIZE, sha256_file
from codi_studio.store.database import connect_raw, inspect_file, quick_check, remove_orphan_journals
from codi_studio.store.errors import (
    BundleError,
    DamagedProjectError,
    InvalidOperationError,
    ProjectLockedError,
    StoreError,
)
from codi_studio.store.generations import GenerationOps
from codi_studio.store.lock import ProcessLock, lock_path_for
from codi_studio.store.migrations import SCHEMA_VERSION
from codi_studio.store.records import ClipRecord, TrackRecord

BUNDLE_FORMAT = "codi-studio-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_NAME = "project.codi"
MAX_MANIFEST_BYTES = 1 << 20


class ExchangeOps(GenerationOps):
    def export_bundle(self, path: str | os.PathLike[str]) -> Path:
        """Write a zip of a consistent snapshot of the project plus a JSON manifest.

        The snapshot is taken with VACUUM INTO (a compact copy of one read
        transaction); the zip is built under a temporary name and renamed into
        place, so a crash never leaves a partial bundle at `path`.
        """
        target = Path(path).absolute()
        if not target.parent.is_dir():
            raise StoreError(target, "the folder does not exist")
        info = self.info()
        with tempfile.TemporaryDirectory(prefix=".codi-export-", dir=target.parent) as scratch:
            snapshot = Path(scratch) / DATABASE_NAME
            conn = connect_raw(self.path, read_only=True)
            try:
                conn.execute("VACUUM INTO ?", (str(snapshot),))
            finally:
                conn.close()
            digest, size = sha256_file(snapshot)
            manifest = {
                "format": BUNDLE_FORMAT,
                "format_version": BUNDLE_FORMAT_VERSION,
                "app_version": __version__,
                "schema_version": SCHEMA_VERSION,
                "project_name": info.name,
                "exported_at": datetime.now(timezone.utc).isoformat(),
                "database": DATABASE_NAME,
                "database_sha256": digest,
                "database_bytes": size,
                "counts": {k: getattr(info, k) for k in ("tracks", "clips", "assets", "versions", "generations", "blobs")},
            }
            partial = Path(scratch) / "bundle.zip"
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2))
                archive.write(snapshot, DATABASE_NAME)
            with partial.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, target)
        return target

    def export_otio(self, path: str | os.PathLike[str], media_dir: str | os.PathLike[str] | None = None) -> Path:
        """Write the timeline as an OpenTimelineIO file (.otio) that other editors open.

        The media each clip shows are written to `media_dir` (default:
        `<name>_media` beside the .otio) and referenced by relative path; text
        clips become generator references carrying their text. Clips that
        overlap on one track go to an extra track, as OTIO tracks are sequential.
        """
        import opentimelineio as otio

        target = Path(path).absolute()
        if target.suffix.lower() != ".otio":
            raise InvalidOperationError(target, "an OpenTimelineIO export needs the .otio extension")
        media = Path(media_dir).absolute() if media_dir is not None else target.with_name(target.stem + "_media")
        info = self.info()
        rate = info.fps
        seconds = lambda s: otio.opentime.RationalTime.from_seconds(s, rate)  # noqa: E731
        timeline = otio.schema.Timeline(name=info.name)
        timeline.global_start_time = seconds(0.0)
        exported: dict[int, Path] = {}
        for track in self.timeline():
            for lane_index, lane in enumerate(_lanes(track.clips)):
                kind = otio.schema.TrackKind.Audio if track.kind == "audio" else otio.schema.TrackKind.Video
                name = track.name if lane_index == 0 else f"{track.name} (overlap {lane_index})"
                otio_track = otio.schema.Track(name=name, kind=kind, metadata={"codi_studio": _track_meta(track)})
                otio_track.enabled = not track.muted
                cursor = 0.0
                for clip in lane:
                    if clip.start > cursor:
                        otio_track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(seconds(0), seconds(clip.start - cursor))))
                    reference = self._otio_reference(otio, clip, media, target.parent, exported, seconds)
                    otio_track.append(
                        otio.schema.Clip(
                            name=self._clip_name(clip),
                            media_reference=reference,
                            source_range=otio.opentime.TimeRange(seconds(clip.in_point), seconds(clip.duration)),
                            metadata={"codi_studio": {"clip_id": clip.id, "version_id": clip.version_id,
                                                      "weight": clip.weight, "text": clip.text}},
                        )
                    )
                    cursor = clip.end
                timeline.tracks.append(otio_track)
        text = otio.adapters.write_to_string(timeline, "otio_json")
        scratch = target.with_name(f".{target.name}.part-{os.getpid()}")
        try:
            scratch.write_text(text, encoding="utf-8")
            os.replace(scratch, target)
        finally:
            scratch.unlink(missing_ok=True)
        return target

    def _otio_reference(self, otio: Any, clip: ClipRecord, media: Path, base: Path, exported: dict[int, Path], seconds: Any) -> Any:
        if clip.text is not None:
            return otio.schema.GeneratorReference(generator_kind="CoDiText", parameters={"text": clip.text})
        if clip.version_id is None:
            return otio.schema.MissingReference()
        record = self.version(clip.version_id)
        if clip.version_id not in exported:
            media.mkdir(parents=True, exist_ok=True)
            exported[clip.version_id] = self.export_version(clip.version_id, media / f"version-{record.id}.{record.format}")
        available = (
            otio.opentime.TimeRange(seconds(0), seconds(record.facts.duration)) if record.facts.duration else None
        )
        relative = os.path.relpath(exported[clip.version_id], base)
        return otio.schema.ExternalReference(target_url=PurePosixPath(Path(relative)).as_posix(), available_range=available)

    def _clip_name(self, clip: ClipRecord) -> str:
        if clip.text is not None:
            return clip.text[:40]
        return f"version {clip.version_id}" if clip.version_id is not None else "empty"


def _lanes(clips: tuple[ClipRecord, ...]) -> list[list[ClipRecord]]:
    """Split clips (sorted by start) into non-overlapping lanes, first fit."""
    lanes: list[list[ClipRecord]] = []
    for clip in sorted(clips, key=lambda c: (c.start, c.id)):
        for lane in lanes:
            if lane[-1].end <= clip.start + 1e-9:
                lane.append(clip)
                break
        else:
            lanes.append([clip])
    return lanes or [[]]


def _track_meta(track: TrackRecord) -> dict[str, Any]:
    return {"track_id": track.id, "kind": track.kind, "role": track.role, "muted": track.muted, "locked": track.locked}


# --- bundle import ----------------------------------------------------------------------------------


def _check_member(bundle: Path, folder: Path, info: zipfile.ZipInfo) -> None:
    """Refuse a zip member whose name would land outside `folder` (zip-slip) or that is a link."""
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if (
        not name
        or pure.is_absolute()
        or ".." in pure.parts
        or (len(name) > 1 and name[1] == ":")
        or "\x00" in name
    ):
        raise BundleError(bundle, f"refusing the bundle: member {name!r} would be written outside the target folder")
    resolved = (folder / pure).resolve()
    if resolved != folder and folder not in resolved.parents:
        raise BundleError(bundle, f"refusing the bundle: member {name!r} would be written outside the target folder")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BundleError(bundle, f"refusing the bundle: member {name!r} is a symbolic link")


def import_bundle(bundle: str | os.PathLike[str], dest: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Unpack a project bundle to the project file `dest`; returns its path.

    Checked before anything is written: a zip with our manifest, no member
    that escapes the target folder, the database's size and sha256 as the
    manifest says. After extraction (to a temporary name in dest's folder):
    the file is a project of a schema we read and passes integrity_check.
    Only then is it renamed to `dest`.
    """
    source = Path(bundle)
    target = Path(dest).absolute()
    if not source.is_file():
        raise BundleError(source, "no such bundle file")
    if not zipfile.is_zipfile(source):
        raise BundleError(source, "not a CoDi Studio bundle (not a zip file)")
    if target.exists() and not overwrite:
        raise StoreError(target, "already exists (choose another name)")
    folder = target.parent
    if not folder.is_dir():
        raise StoreError(target, "the folder does not exist")
    folder = folder.resolve()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(source, f"unreadable bundle: {exc}") from None
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        for info in members.values():
            _check_member(source, folder, info)
        manifest = _read_manifest(source, archive, members)
        db_info = members.get(manifest["database"])
        if db_info is None:
            raise BundleError(source, f"the bundle lacks its database {manifest['database']!r}")
        if db_info.file_size != manifest["database_bytes"]:
            raise BundleError(source, "the database size does not match the manifest")
        fd, scratch_name = tempfile.mkstemp(prefix=f".{target.name}.importing-", dir=folder)
        scratch = Path(scratch_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, archive.open(db_info) as stream:
                written = 0
                for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
                    written += len(chunk)
                    if written > db_info.file_size:
                        raise BundleError(source, "the database is larger than the bundle says")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != manifest["database_sha256"]:
                raise BundleError(source, "the database does not match its checksum (damaged bundle)")
            try:
                inspect_file(scratch)
            except StoreError as exc:
                raise type(exc)(source, f"bundled database: {exc.reason}") from None
            conn = connect_raw(scratch)
            try:
                quick_check(conn, source, full=True)
            except DamagedProjectError as exc:
                raise BundleError(source, f"bundled database: {exc.reason}") from None
            finally:
                conn.close()
            os.chmod(scratch, 0o644)  # mkstemp made it private; a project is an ordinary document
            _replace_project(scratch, target)
        finally:
            for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
                leftover.unlink(missing_ok=True)
    return target


def _replace_project(new: Path, target: Path) -> None:
    """Move `new` to `target`; an existing target must not be open, and its old WAL must go with it."""
    lock = ProcessLock(lock_path_for(target))
    if not lock.try_acquire():
        raise ProjectLockedError(target, f"project is open elsewhere ({lock.holder()}); close it before replacing it")
    try:
        remove_orphan_journals(target)
        os.replace(new, target)
    finally:
        lock.release()


def _read_manifest(source: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    info = members.get(MANIFEST_NAME)
    if info is None:
        raise BundleError(source, "not a CoDi Studio bundle (no manifest.json)")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise BundleError(source, "manifest.json is implausibly large")
    try:
        manifest = json.loads(archive.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(source, f"manifest.json is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(source, "not a CoDi Studio bundle (wrong manifest format)")
    if int(manifest.get("format_version", 0)) > BUNDLE_FORMAT_VERSION:
        raise BundleError(source, "bundle made by a newer CoDi Studio")
    for key, kind in (("database", str), ("database_sha256", str), ("database_bytes", int)):
        if not isinstance(manifest.get(key), kind):
            raise BundleError(source, f"manifest.json lacks {key!r}")
    return manifest
