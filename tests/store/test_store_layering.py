"""The store imports neither torch nor Qt, even when every kind of operation has run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np
    from codi_studio.media import Image, Audio
    from codi_studio.store import Project, Recipe
    from codi_studio.cli import main

    folder = Path(sys.argv[1])
    with Project.create(folder / "a.codi") as project:
        v = project.add_value(Image(np.zeros((8, 8, 3), np.uint8)), "black")
        a = project.add_value(Audio(np.zeros((800, 1), np.float32), 8000), "silence")
        project.read_media(v.id); project.thumbnail(v.id); project.waveform(a.id)
        project.record_generation(Recipe("m", "h", "ddim", 1, 1.0, 0, ("image",)), {"image": project.read_media(v.id)})
        track = project.add_track("image")
        project.place_clip(track.id, 0, 1, version_id=v.id)
        project.export_otio(folder / "a.otio")
        project.export_bundle(folder / "a.zip")
    main(["project", "history", str(folder / "a.codi"), "--json"])
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "PySide6", "shiboken6"))
    print("HEAVY", heavy)
    """
)


def test_store_never_imports_torch_or_qt(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout[-500:]
