"""What the studio remembers between runs (QSettings): window layout, recent projects, first run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "CoDi Studio"
APPLICATION = "codi-studio"
MAX_RECENT = 10


class StudioSettings:
    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or QSettings(ORGANIZATION, APPLICATION)

    # ---- recent projects -----------------------------------------------------------------
    def recent_projects(self) -> list[str]:
        value = self.qsettings.value("recent/projects", [])
        if isinstance(value, str):  # QSettings hands back a lone string for a one-item list
            value = [value]
        return [p for p in (value or []) if Path(p).exists()]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        recent = [p for p in self.recent_projects() if p != path]
        self.qsettings.setValue("recent/projects", [path] + recent[: MAX_RECENT - 1])

    def clear_recent(self) -> None:
        self.qsettings.setValue("recent/projects", [])

    # ---- layout ----------------------------------------------------------------------------
    def save_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    # ---- first run -------------------------------------------------------------------------
    @property
    def first_run_done(self) -> bool:
        return str(self.qsettings.value("app/first_run_done", "false")).lower() == "true"

    def mark_first_run_done(self) -> None:
        self.qsettings.setValue("app/first_run_done", "true")

    def sync(self) -> None:
        self.qsettings.sync()
