"""The media layer stands alone: no torch and no Qt, by import and by source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import codi_studio.media

FORBIDDEN = ("torch", "PySide6", "PyQt5", "PyQt6", "shiboken6", "diffusers", "transformers")
MEDIA_DIR = Path(codi_studio.media.__file__).parent


def test_no_forbidden_import_in_the_source() -> None:
    offenders = []
    for source in sorted(MEDIA_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{source.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(list(MEDIA_DIR.glob("*.py"))) >= 10  # the scan saw the package


def test_importing_the_layer_pulls_in_no_heavy_framework() -> None:
    script = "import sys, codi_studio.media; print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (FORBIDDEN,)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
