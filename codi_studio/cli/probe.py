"""`codi-studio probe FILE...`: one JSON line of media facts per file (no torch imported)."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="print the media facts of files as JSON lines",
        description="Print one JSON object per file: modality, size, fps, frames, duration, sample rate, "
        "channels, has_audio (null where it does not apply), or {path, error}. Exit 1 if any file failed.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="media files to inspect")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codi_studio.media import MediaError, probe

    failed = False
    for name in args.files:
        try:
            line = probe(name).to_dict()
            line["path"] = name  # as the user wrote it
        except MediaError as exc:
            line = {"path": name, "error": exc.reason}
            failed = True
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0
