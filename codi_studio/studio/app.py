"""Starting the studio: the QApplication, the first project, and the screenshot mode."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from codi_studio.studio import theme
from codi_studio.studio.main_window import MainWindow
from codi_studio.studio.sample import resources_dir, sample_project_path
from codi_studio.studio.settings import StudioSettings


def application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("CoDi Studio")
        app.setOrganizationName("CoDi Studio")
        theme.apply_dark_palette(app)
        icon = resources_dir() / "icons" / "codi-studio.svg"
        if icon.is_file():
            app.setWindowIcon(QIcon(str(icon)))
    assert isinstance(app, QApplication)
    return app


def first_project(settings: StudioSettings) -> Path:
    """No project named: the most recent one, else the sample (built on the first run)."""
    recent = settings.recent_projects()
    if recent and settings.first_run_done:
        return Path(recent[0])
    path = sample_project_path()
    settings.mark_first_run_done()
    return path


def wait_until_drawn(window: MainWindow, app: QApplication, settle_ms: int = 300) -> None:
    """Returns once the window is exposed and has painted (offscreen platforms included)."""
    window.show()
    window.raise_()
    for _ in range(200):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if window.isVisible() and window.windowHandle() is not None and window.windowHandle().isExposed():
            break
    loop = QEventLoop()
    QTimer.singleShot(settle_ms, loop.quit)
    loop.exec()
    window.repaint()
    app.processEvents()


def run(project: str | None = None, screenshot: str | None = None) -> int:
    app = application()
    settings = StudioSettings()
    window = MainWindow(settings=settings, interactive=screenshot is None)
    path = Path(project) if project else first_project(settings)
    if screenshot is not None:
        window.open_project(path)
        window.resize(1600, 960)
        wait_until_drawn(window, app)
        window.view.zoom_to_fit()  # now that the timeline has its final width
        window.view.select_shot(window.model.shots[0].uid if window.model.shots else None)
        app.processEvents()
        window.view.set_playhead(0.5)
        wait_until_drawn(window, app, settle_ms=100)
        target = Path(screenshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(target), "PNG"):
            print(f"codi-studio gui: error: could not write the screenshot {target}", file=sys.stderr)
            window.close()
            return 1
        window.close()
        return 0
    window.show()
    # the window is up first; the project (and the store behind it) loads right after
    QTimer.singleShot(0, lambda: _open_or_report(window, path))
    return int(app.exec())


def _open_or_report(window: MainWindow, path: Path) -> None:
    try:
        window.open_project(path)
    except Exception as exc:  # already shown to the user by open_project; keep the window usable
        window.statusBar().showMessage(f"Could not open {path}: {exc}", 15000)
