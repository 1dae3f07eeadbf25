"""`codi-studio project`: create, inspect, export, import and purge project files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from codi_studio.cli import UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("project", help="create, inspect, export and import project files")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))

    new = actions.add_parser("new", help="create an empty project file")
    new.add_argument("file", type=Path, metavar="FILE.codi")
    new.add_argument("--name", help="project name (default: the file name)")
    new.add_argument("--fps", type=float, default=24.0, help="timeline frame rate (default 24)")
    new.set_defaults(func=_guarded(_new))

    info = actions.add_parser("info", help="print what a project holds")
    info.add_argument("file", type=Path, metavar="FILE")
    info.add_argument("--json", action="store_true", help="one JSON object")
    info.add_argument("--check", action="store_true", help="also run integrity checks (SQLite and every medium's hash)")
    info.set_defaults(func=_guarded(_info))

    history = actions.add_parser("history", help="list every version, newest first, with its recipe")
    history.add_argument("file", type=Path, metavar="FILE")
    history.add_argument("--json", action="store_true", help="one JSON list of versions")
    history.add_argument("--limit", type=int, default=None, help="at most this many versions")
    history.set_defaults(func=_guarded(_history))

    export = actions.add_parser("export", help="write a bundle (zip of the project and a manifest)")
    export.add_argument("file", type=Path, metavar="FILE")
    export.add_argument("bundle", type=Path, metavar="BUNDLE.zip")
    export.set_defaults(func=_guarded(_export))

    imp = actions.add_parser("import", help="unpack a bundle into a new project file")
    imp.add_argument("bundle", type=Path, metavar="BUNDLE.zip")
    imp.add_argument("dest", type=Path, metavar="DEST.codi")
    imp.add_argument("--force", action="store_true", help="replace DEST if it exists")
    imp.set_defaults(func=_guarded(_import))

    purge = actions.add_parser("purge", help="drop deleted clips, versions and unused media; compact the file")
    purge.add_argument("file", type=Path, metavar="FILE")
    purge.set_defaults(func=_guarded(_purge))


def _guarded(action: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Store errors (bad file, locked, damaged...) become one line on stderr and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        from codi_studio.store import StoreError

        try:
            return action(args)
        except StoreError as exc:
            print(f"codi-studio project {args.action}: error: {exc}", file=sys.stderr)
            return 1

    return run


def _new(args: argparse.Namespace) -> int:
    from codi_studio.store import Project

    if args.file.suffix.lower() != ".codi":
        raise UsageError(f"{args.file}: a project file needs the .codi extension")
    if args.fps <= 0:
        raise UsageError(f"--fps must be positive, got {args.fps}")
    with Project.create(args.file, name=args.name, fps=args.fps) as project:
        print(f"created {project.path} ({project.info().name})")
    return 0


def _open_for_reading(path: Path) -> Any:
    """Read-only when possible (works while the studio has it open); writable to upgrade an old schema."""
    from codi_studio.store import Project, StoreError
    from codi_studio.store.database import inspect_file
    from codi_studio.store.migrations import SCHEMA_VERSION

    if inspect_file(path, read_only=True) < SCHEMA_VERSION:
        try:
            return Project.open(path)
        except StoreError:
            pass
    return Project.open(path, read_only=True)


def _info(args: argparse.Namespace) -> int:
    with _open_for_reading(args.file) as project:
        info = project.info()
        problems = project.check_integrity() if args.check else None
    if args.json:
        data = info.to_dict()
        if problems is not None:
            data["problems"] = problems
        print(json.dumps(data))
    else:
        print(f"{info.name}  ({info.path})")
        print(f"  created {info.created_at:%Y-%m-%d %H:%M} UTC, schema {info.schema_version}, {info.fps:g} fps")
        print(f"  {info.tracks} tracks, {info.clips} clips, {info.assets} assets, {info.versions} versions, "
              f"{info.generations} generations, {info.jobs} jobs")
        print(f"  {info.blobs} media, {_size(info.media_bytes)} inside a {_size(info.file_bytes)} file")
        if problems is not None:
            print("  integrity: ok" if not problems else "  integrity: " + "; ".join(problems))
    return 1 if problems else 0


def _history(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    with _open_for_reading(args.file) as project:
        versions = project.history(limit=args.limit)
    if args.json:
        print(json.dumps([
            {"id": v.id, "asset": v.asset_id, "number": v.number, "modality": v.modality, "origin": v.origin,
             "created_at": v.created_at.isoformat(), "content_hash": v.content_hash, "format": v.format,
             "recipe": v.recipe.to_dict() if v.recipe else None}
            for v in versions
        ]))
        return 0
    for v in versions:
        line = f"{v.id:>6}  asset {v.asset_id} v{v.number}  {v.modality:<5}  {v.created_at:%Y-%m-%d %H:%M:%S}  "
        if v.recipe is None:
            line += f"{v.origin} {v.source_name or ''}".rstrip()
        else:
            r = v.recipe
            prompt = r.prompt.replace("\n", " / ")
            line += f"{r.model_id} {r.sampler} {r.steps} steps, guidance {r.guidance:g}, seed {r.seed}"
            line += f"  \"{prompt[:60]}\"" if prompt else ""
        print(line)
    return 0


def _export(args: argparse.Namespace) -> int:
    from codi_studio.store import Project

    with _open_for_reading(args.file) as project:
        path = project.export_bundle(args.bundle)
    print(f"wrote {path} ({_size(path.stat().st_size)})")
    return 0


def _import(args: argparse.Namespace) -> int:
    from codi_studio.store import import_bundle

    if args.dest.suffix.lower() != ".codi":
        raise UsageError(f"{args.dest}: a project file needs the .codi extension")
    path = import_bundle(args.bundle, args.dest, overwrite=args.force)
    print(f"imported {args.bundle} into {path}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from codi_studio.store import Project

    with Project.open(args.file) as project:
        report = project.purge()
    print(f"purged {report.clips} clips, {report.versions} versions, {report.assets} assets, {report.blobs} media "
          f"({_size(report.bytes_freed)}); file {_size(report.file_bytes_before)} -> {_size(report.file_bytes_after)}")
    return 0


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
