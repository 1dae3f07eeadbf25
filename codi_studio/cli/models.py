"""`codi-studio models`: import the official release, list, inspect, verify and remove models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codi_studio.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="import, list, inspect, verify and remove models",
                       description="Manage the model store. The embedded default (toy-v1) is always there.")
    p.add_argument("--store", default=None, help="model store folder (default: the user data folder, "
                   "or CODI_STUDIO_MODEL_STORE)")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    imp = verbs.add_parser("import", help="import the official CoDi release files from a folder")
    imp.add_argument("dir", type=Path, help="folder holding CoDi_encoders.pth, CoDi_*_diffuser*.pth")
    imp.add_argument("--name", default="codi-official", help="name in the store (default: codi-official)")
    imp.add_argument("--tokenizers", type=Path, default=None,
                     help="folder with clip/, text_vae_encoder/, text_vae_decoder/ tokenizer folders "
                     "(transformers format); the release files carry none")
    imp.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    imp.set_defaults(func=run_import)
    ls = verbs.add_parser("list", help="list the models")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    for verb, helptext, func in (("info", "show a model's config", "run_info"),
                                 ("verify", "check a model's weight files against their recorded hashes", "run_verify"),
                                 ("remove", "delete a model from the store", "run_remove")):
        v = verbs.add_parser(verb, help=helptext)
        v.add_argument("name")
        v.set_defaults(func=globals()[func])
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _resolve_error(exc: Exception) -> UsageError:
    return UsageError(str(exc))


def run_import(args: argparse.Namespace) -> int:
    from codi_studio.codi.importer import ImportFailed, import_release

    if not args.dir.is_dir():
        raise UsageError(f"{args.dir}: no such folder")
    try:
        folder = import_release(args.dir, store=args.store, name=args.name, tokenizers=args.tokenizers,
                                overwrite=args.overwrite)
    except ImportFailed as exc:
        print(f"codi-studio models import: error: {exc}", file=sys.stderr)
        return 1
    print(f"imported {args.name} into {folder}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from codi_studio.codi.model_store import list_models

    models = list_models(args.store)
    if args.json:
        print(json.dumps([{"name": m.name, "id": m.config.id, "embedded": m.embedded, "folder": str(m.folder),
                           "components": sorted(m.config.components)} for m in models], indent=1))
        return 0
    if not models:
        print("no models")
    for m in models:
        tag = "embedded" if m.embedded else "store"
        print(f"{m.name:24s} {tag:9s} {m.size_bytes / 1e6:9.1f} MB  {m.config.name}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from codi_studio.codi.model_store import ModelNotFound, content_hash, info

    try:
        m = info(args.name, args.store)
    except ModelNotFound as exc:
        raise _resolve_error(exc) from None
    c = m.config
    print(json.dumps({
        "name": m.name, "id": c.id, "title": c.name, "folder": str(m.folder), "embedded": m.embedded,
        "content_hash": content_hash(m.folder), "joint_mode": c.joint_mode, "prediction_type": c.prediction_type,
        "components": {n: {"type": s.type, "files": [s.file] if s.file else list(s.shards)}
                       for n, s in c.components.items()},
        "geometry": c.geometry.__dict__, "size_mb": round(m.size_bytes / 1e6, 1),
    }, indent=1))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from codi_studio.codi.model_store import ModelNotFound, verify

    try:
        problems = verify(args.name, args.store)
    except ModelNotFound as exc:
        raise _resolve_error(exc) from None
    if problems:
        for p in problems:
            print(f"{args.name}: {p}", file=sys.stderr)
        return 1
    print(f"{args.name}: ok")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from codi_studio.codi.model_store import ModelNotFound, remove

    try:
        folder = remove(args.name, args.store)
    except (ModelNotFound, ValueError) as exc:
        raise _resolve_error(exc) from None
    print(f"removed {folder}")
    return 0
