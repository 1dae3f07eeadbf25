"""The `codi-studio` command line.

Each subcommand lives in its own module with a `register(subparsers)` function;
modules are imported only when their command runs, so `--help` stays fast and
the CLI never pays for torch or Qt it does not use.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from codi_studio import __version__

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "probe": ("codi_studio.cli.probe", "print the media facts of files as JSON lines"),
    "generate": ("codi_studio.cli.generate", "generate media from any mix of text, image, audio and video"),
    "eval": ("codi_studio.cli.eval", "measure a model on the toy world"),
    "models": ("codi_studio.cli.models", "import, list, inspect, verify and remove models"),
    "project": ("codi_studio.cli.project", "create, inspect, export and import project files"),
    "train": ("codi_studio.cli.train", "train a CoDi model (the toy preset builds the embedded default)"),
    "gui": ("codi_studio.cli.gui", "open the studio window"),
}


class UsageError(Exception):
    """Bad arguments: reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as argparse but without the usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(load: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="codi-studio", description="CoDi Studio: any-to-any media generation, offline.")
    parser.add_argument("--version", action="version", version=f"codi-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        if load is not None and name in load:
            module = importlib.import_module(module_name)
            module.register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(load=[command] if command in COMMANDS else [])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"codi-studio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
