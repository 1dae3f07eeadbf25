"""`codi-studio gui [PROJECT] [--screenshot PNG]`: open the studio window."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gui", help="open the studio window")
    parser.add_argument("project", nargs="?", help="a project file (*.codi) to open; created if it does not exist")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="open the window, wait until it is drawn, save a screenshot to PNG and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codi_studio.cli import UsageError

    if args.project is not None:
        project = Path(args.project)
        if project.suffix != ".codi":
            raise UsageError(f"{project}: a project file must end in .codi")
        if project.exists() and not project.is_file():
            raise UsageError(f"{project}: is not a file")
    if args.screenshot is not None and Path(args.screenshot).suffix.lower() != ".png":
        raise UsageError(f"{args.screenshot}: the screenshot must be a .png file")
    try:
        from codi_studio.studio.app import run as run_studio
    except ImportError as exc:  # the gui extra is not installed
        raise UsageError(f"the studio needs PySide6: pip install 'codi-studio[gui]' ({exc})") from exc
    from codi_studio.store import StoreError

    try:
        return run_studio(args.project, args.screenshot)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
