"""The studio window: bin, viewer, timeline, inspector, job queue and history as docks."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QDialog,
    QVBoxLayout,
    QWidget,
)

from codi_studio.media.values import Modality
from codi_studio.service.generation import GenerationService
from codi_studio.service.timeline_export import mix_audio, output_size, render_frame
from codi_studio.studio import snapshot
from codi_studio.studio.audio_output import AudioOutput
from codi_studio.studio.commands import AddClipsCommand, EditClipCommand, EditShotCommand
from codi_studio.studio.export_dialog import ExportDialog
from codi_studio.studio.history_panel import HistoryEntry, HistoryPanel
from codi_studio.studio.inspector import Inspector
from codi_studio.studio.job_panel import JobPanel
from codi_studio.studio.jobs import CANCELLED, FAILED, RUNNING, JobQueue
from codi_studio.studio.media_bin import MediaBin
from codi_studio.studio.settings import StudioSettings
from codi_studio.studio.timeline_model import OUTPUT, Clip, Shot, TimelineModel
from codi_studio.studio.timeline_view import TimelineWidget
from codi_studio.studio.viewer import Viewer

if TYPE_CHECKING:
    from codi_studio.studio.session import ProjectSession

log = logging.getLogger(__name__)
AUTOSAVE_MS = 60_000
PLAYBACK_TICK_MS = 33
LAYOUT_VERSION = 1


def store_error() -> type[Exception]:
    """The store's error type. `except` evaluates this only while handling an error, so the store
    (SQLAlchemy, slow to import) loads after the window is on screen, when a project opens."""
    from codi_studio.store import StoreError  # noqa: PLC0415

    return StoreError


class _NoPreviews:
    def thumbnail(self, clip: Clip):  # noqa: ANN201 - QPixmap | None
        return None

    def peaks(self, clip: Clip):  # noqa: ANN201 - ndarray | None
        return None


class MainWindow(QMainWindow):
    projectOpened = Signal(str)
    generationRecorded = Signal(int, list)  # queue job id, clip uids placed or updated

    def __init__(self, settings: StudioSettings | None = None,
                 service_factory: Callable[[], GenerationService] | None = None,
                 interactive: bool = True, autosave_ms: int = AUTOSAVE_MS) -> None:
        super().__init__()
        self.setWindowTitle("CoDi Studio")
        self.resize(1440, 900)
        self.settings = settings or StudioSettings()
        self.interactive = interactive  # False in tests and --screenshot: never block on a dialog
        self.session: ProjectSession | None = None
        self.model = TimelineModel(tracks=[])
        self.undo = QUndoStack(self)
        self.audio = AudioOutput()
        self.queue = JobQueue(service_factory)
        self._playing = False
        self._play_clock = QElapsedTimer()
        self._play_from = 0.0
        self._export_dialog: ExportDialog | None = None
        self._history_clip: str | None = None

        self.timeline = TimelineWidget(self.model, self.undo, _NoPreviews())
        self.view = self.timeline.view
        self.viewer = Viewer()
        self.bin = MediaBin()
        self.inspector = Inspector()
        self.jobs_panel = JobPanel(self.queue)
        self.history = HistoryPanel()
        self.setCentralWidget(self.viewer)
        self.setDockNestingEnabled(True)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("bin", "Media", self.bin, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("timeline", "Timeline", self.timeline, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("history", "Versions", self.history, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("jobs", "Jobs", self.jobs_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.splitDockWidget(self.docks["inspector"], self.docks["history"], Qt.Orientation.Vertical)
        self.splitDockWidget(self.docks["bin"], self.docks["jobs"], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["timeline"]], [440], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["bin"], self.docks["inspector"]], [330, 320], Qt.Orientation.Horizontal)
        self.status_label = QLabel("")
        self.statusBar().addPermanentWidget(self.status_label)
        self._build_actions()
        self._connect()
        self._autosave = QTimer(self)
        self._autosave.setInterval(autosave_ms)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAYBACK_TICK_MS)
        self._play_timer.timeout.connect(self._on_play_tick)
        self._restore_layout()
        if not self.audio.available:
            self.viewer.audio_label.setText("no audio device (silent)")
            self.viewer.audio_label.setToolTip(self.audio.unavailable_reason or "")
            self.statusBar().showMessage(self.audio.unavailable_reason or "", 8000)
        self._update_title()

    # ---- construction ----------------------------------------------------------------------
    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")  # saveState needs object names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _action(self, menu, text: str, slot: Callable, shortcut: QKeySequence | str | None = None,  # noqa: ANN001
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New Project…", self._new_project_dialog, QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open Project…", self._open_project_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._action(file_menu, "Open &Sample Project", self.open_sample_project)
        file_menu.addSeparator()
        self._action(file_menu, "&Import Media…", self.bin._choose_files, "Ctrl+I")
        self._action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(file_menu, "&Export…", self.show_export_dialog, "Ctrl+E")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo", self.undo.undo, "Ctrl+Z")
        self.redo_action = self._action(edit, "&Redo", self.undo.redo, "Ctrl+Shift+Z")
        edit.addSeparator()
        self._action(edit, "&Delete", self.view.delete_selection, QKeySequence(Qt.Key.Key_Delete))
        self._action(edit, "&Split at Playhead", self.view.split_at_playhead, "S")
        self._action(edit, "&Mark Shot from Selection", self.mark_shot_from_selection, "M")
        self._action(edit, "Toggle &Snapping", self._toggle_snap, "N")
        view = bar.addMenu("&View")
        self._action(view, "Zoom &In", self.view.zoom_in, "+")
        self._action(view, "Zoom In", self.view.zoom_in, "=")
        self._action(view, "Zoom &Out", self.view.zoom_out, "-")
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        self._action(view, "&Reset Layout", self.reset_layout)
        play = bar.addMenu("&Playback")
        self._action(play, "&Play / Pause", self.toggle_play, "Space")
        self._action(play, "Go to &Start", lambda: self.seek(0.0), "Home")
        self._action(play, "Go to &End", lambda: self.seek(self.model.duration), "End")
        self._action(play, "Frame &Back", lambda: self.step_frames(-1), "Left")
        self._action(play, "Frame &Forward", lambda: self.step_frames(1), "Right")
        gen = bar.addMenu("&Generate")
        self._action(gen, "&Generate Selected Shot", self.generate_selected, "G")
        self._action(gen, "&Cancel Running Job", self.cancel_running, "Ctrl+.")
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About CoDi Studio", self._about)

    def _connect(self) -> None:
        self.undo.cleanChanged.connect(lambda _: self._update_title())
        self.undo.indexChanged.connect(lambda _: self._update_title())
        self.bin.importRequested.connect(self.import_files)
        self.bin.assetActivated.connect(self._show_asset)
        self.view.filesDropped.connect(self._on_files_dropped)
        self.view.assetDropped.connect(self._on_asset_dropped)
        self.view.selectionChangedClips.connect(self._on_clip_selection)
        self.view.shotSelected.connect(self._on_shot_selected)
        self.view.playheadMoved.connect(self._on_playhead)
        self.model.clipChanged.connect(self._on_model_clip_changed)
        self.model.clipRemoved.connect(lambda uid: self._on_clip_selection(self.view.selected_clips()))
        self.model.shotChanged.connect(self._on_model_shot_changed)
        self._frame_timer = QTimer(self)  # many edits in one go redraw the viewer once
        self._frame_timer.setSingleShot(True)
        self._frame_timer.setInterval(0)
        self._frame_timer.timeout.connect(self._refresh_frame)
        self.model.modified.connect(self._frame_timer.start)
        self.inspector.clipEdited.connect(lambda clip, text: self.undo.push(EditClipCommand(self.model, clip, text)))
        self.inspector.shotEdited.connect(lambda shot, text: self.undo.push(EditShotCommand(self.model, shot, text)))
        self.inspector.generateRequested.connect(self.generate_shot)
        self.history.versionPicked.connect(self.pick_version)
        self.queue.jobChanged.connect(self._on_job_changed)
        self.queue.jobFinished.connect(self._on_job_finished)
        self.queue.modelLoaded.connect(lambda text: self.status_label.setText(f"model {text}"))
        self.viewer.playToggled.connect(self.toggle_play)
        self.viewer.toStart.connect(lambda: self.seek(0.0))
        self.viewer.toEnd.connect(lambda: self.seek(self.model.duration))
        self.viewer.stepFrames.connect(self.step_frames)

    # ---- layout ------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry, state = self.settings.layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()

    def save_layout(self) -> None:
        self.settings.save_layout(self.saveGeometry(), self.saveState(LAYOUT_VERSION))

    # ---- projects ---------------------------------------------------------------------------
    def open_project(self, path: str | Path, recover: bool | None = None) -> None:
        """Opens (or, for a new path, creates) a project; offers the autosave after a crash."""
        from codi_studio.studio.session import ProjectSession  # noqa: PLC0415 - see store_error()

        path = Path(path)
        self.close_project()
        try:
            session = ProjectSession.open(path, self.model) if path.exists() else ProjectSession.create(path,
                                                                                                      self.model)
        except store_error() as exc:
            self._error("Cannot open project", str(exc))
            raise
        self.session = session
        self.view.previews = session
        self.view.rebuild()
        session.binChanged.connect(self._refresh_bin)
        self.undo.clear()
        self._refresh_bin()
        self._maybe_recover(recover)
        self.settings.add_recent(path)
        self._refresh_recent_menu()
        self.view.set_playhead(0.0)
        self.view.zoom_to_fit()
        self._update_title()
        self.statusBar().showMessage(f"Opened {path}", 4000)
        self.projectOpened.emit(str(path))

    def _maybe_recover(self, recover: bool | None) -> None:
        assert self.session is not None
        auto = snapshot.autosave_path(self.session.path)
        if not auto.exists():
            return
        if recover is None:
            if not self.interactive:
                return
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(auto.stat().st_mtime))
            answer = QMessageBox.question(
                self, "Recover unsaved work?",
                f"CoDi Studio did not close normally. Recover the edits autosaved at {when}?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            recover = answer == QMessageBox.StandardButton.Yes
        if recover:
            try:
                snapshot.load_into(self.model, snapshot.read_autosave(auto), auto)
            except snapshot.SnapshotError as exc:
                self._error("Recovery failed", str(exc))
                return
            self.undo.resetClean()
            self.undo.clear()
            self.statusBar().showMessage("Recovered the last autosave; save to keep it", 8000)
        else:
            auto.unlink(missing_ok=True)

    def close_project(self) -> None:
        if self.session is None:
            return
        self.stop()
        if not self.queue.is_idle():  # the worker writes results into this project: stop it first
            self.queue.cancel_all()
            self.queue.wait_idle()
        self.session.close()
        self.session = None
        self.view.previews = _NoPreviews()
        self.model.clear()
        self.model.set_tracks([])
        self.undo.clear()
        self.bin.set_entries([])
        self.history.clear_versions()
        self.inspector.show_nothing()

    def save(self) -> bool:
        if self.session is None:
            return False
        try:
            self.session.save()
        except store_error() as exc:
            self._error("Save failed", str(exc))
            return False
        snapshot.autosave_path(self.session.path).unlink(missing_ok=True)
        self.undo.setClean()
        self._update_title()
        self.statusBar().showMessage(f"Saved {self.session.path.name}", 3000)
        return True

    def autosave(self) -> bool:
        """Writes the unsaved edit state beside the project (not the project itself)."""
        if self.session is None or not self.session.has_unsaved_changes():
            return False
        try:
            snapshot.write_autosave(snapshot.autosave_path(self.session.path), self.model)
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
            return False
        self.statusBar().showMessage("Autosaved", 2000)
        return True

    def open_sample_project(self) -> None:
        from codi_studio.studio.sample import sample_project_path  # noqa: PLC0415 - builds media on demand

        try:
            path = sample_project_path()
        except Exception as exc:  # the sample is a convenience; never fatal
            self._error("Sample project", f"Could not build the sample project: {exc}")
            return
        self.open_project(path)

    def _new_project_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project", "", "CoDi projects (*.codi)")
        if path:
            if not path.endswith(".codi"):
                path += ".codi"
            if self._confirm_discard():
                self.open_project(path)

    def _open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", "CoDi projects (*.codi)")
        if path and self._confirm_discard():
            self.open_project(path)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent_projects():
            action = self.recent_menu.addAction(p)
            action.triggered.connect(lambda checked=False, p=p: self._confirm_discard() and self.open_project(p))

    def _confirm_discard(self) -> bool:
        if self.session is None or not self.session.has_unsaved_changes():
            return True
        if not self.interactive:
            return self.autosave() or True  # keep the edits recoverable rather than lose them
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.session.path.name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            snapshot.autosave_path(self.session.path).unlink(missing_ok=True)
            return True
        return False

    def _update_title(self) -> None:
        if self.session is None:
            self.setWindowTitle("CoDi Studio")
            return
        dirty = "*" if self.session.has_unsaved_changes() else ""
        self.setWindowTitle(f"{self.session.name}{dirty} — CoDi Studio")

    # ---- bin and placing --------------------------------------------------------------------
    def _refresh_bin(self) -> None:
        if self.session is not None:
            self.bin.set_entries(self.session.bin_entries())

    def import_files(self, paths: list[str]) -> list[int]:
        """Imports files into the project; returns the new version ids."""
        if self.session is None:
            return []
        done, problems = self.session.import_files(paths)
        if problems:
            text = "\n".join(f"{p.path}: {p.reason}" for p in problems)
            self.statusBar().showMessage(f"Could not import {len(problems)} file(s)", 8000)
            self._error("Import problems", text)
        elif done:
            self.statusBar().showMessage(f"Imported {len(done)} file(s)", 4000)
        return [v.id for v in done]

    def place_asset(self, asset_id: int, track_uid: str | None, time: float) -> str | None:
        if self.session is None:
            return None
        try:
            clip = self.session.clip_for_asset(asset_id, track_uid, time)
        except (ValueError, store_error()) as exc:
            self.statusBar().showMessage(str(exc), 6000)
            return None
        self.undo.push(AddClipsCommand(self.model, [clip]))
        return clip.uid

    def _on_asset_dropped(self, asset_id: int, track_uid: str, time: float) -> None:
        self.place_asset(asset_id, track_uid or None, time)

    def _on_files_dropped(self, paths: list[str], track_uid: str, time: float) -> None:
        if self.session is None:
            return
        version_ids = self.import_files(paths)
        clips = []
        t = time
        for vid in version_ids:
            try:
                clip = self.session.clip_for_version(self.session.version(vid), track_uid or None, t)
            except ValueError as exc:
                self.statusBar().showMessage(str(exc), 6000)
                continue
            clips.append(clip)
            t = clip.end
        if clips:
            self.undo.push(AddClipsCommand(self.model, clips, "Drop media"))

    def _show_asset(self, asset_id: int) -> None:
        if self.session is None:
            return
        asset = self.session.asset(asset_id)
        if asset.latest_version_id is None:
            return
        value = self.session.media(asset.latest_version_id)
        from codi_studio.media.values import Image, Text, Video  # noqa: PLC0415

        if isinstance(value, Image):
            self.viewer.show_frame(value, badge=asset.name)
        elif isinstance(value, Video):
            self.viewer.show_frame(Image(value.frames[0]), badge=asset.name)
        elif isinstance(value, Text):
            self.viewer.show_frame(None, caption=value.text, badge=asset.name)

    # ---- selection, inspector, history ------------------------------------------------------
    def _on_clip_selection(self, uids: list) -> None:
        uids = [u for u in uids if self.model.has_clip(u)]
        if len(uids) == 1:
            clip = self.model.clip(uids[0])
            self.inspector.show_clip(clip, self.model.track(clip.track), self._version_text(clip))
            self._show_history(clip)
        elif not uids and self.view.selected_shot() is None:
            self.inspector.show_nothing()
            self.history.clear_versions()
            self._history_clip = None

    def _version_text(self, clip: Clip) -> str:
        if self.session is None or clip.version_id is None:
            return "inline text" if clip.text is not None else "—"
        v = self.session.version(clip.version_id)
        return f"v{v.number} ({v.origin})"

    def _show_history(self, clip: Clip) -> None:
        self._history_clip = clip.uid
        if self.session is None or clip.asset_id is None or self.model.track(clip.track).role != OUTPUT:
            self.history.clear_versions()
            return
        entries = []
        for v in reversed(self.session.versions_of(clip)):
            r = v.recipe
            detail = f"seed {r.seed} · {r.sampler} {r.steps} · g {r.guidance:g}" if r else v.origin
            detail += f" · {v.created_at.astimezone().strftime('%H:%M:%S')}"
            thumb = self.session.pixmap(v.id) if v.modality in ("image", "video") else None
            entries.append(HistoryEntry(v.id, f"v{v.number}", detail, thumb, v.id == clip.version_id))
        self.history.show_versions(f"{clip.label or 'Output'}: {len(entries)} version(s)", entries)

    def pick_version(self, version_id: int) -> None:
        """Shows `version_id` in the history's clip, and the same generation in its linked clips."""
        if self.session is None or self._history_clip is None or not self.model.has_clip(self._history_clip):
            return
        clip = self.model.clip(self._history_clip)
        if clip.version_id == version_id:
            return
        version = self.session.version(version_id)
        self.undo.beginMacro("Switch version")
        self.undo.push(EditClipCommand(self.model, self.session.clip_with_version(clip, version_id), "Switch version"))
        for partner in self.model.linked(clip.uid):
            if partner.uid == clip.uid:
                continue
            other = self.session.partner_version(partner, version)
            if other is not None and other != partner.version_id:
                self.undo.push(EditClipCommand(self.model, self.session.clip_with_version(partner, other),
                                               "Switch version"))
        self.undo.endMacro()
        self._refresh_frame()

    def _on_model_clip_changed(self, uid: str) -> None:
        selected = self.view.selected_clips()
        if selected == [uid]:
            clip = self.model.clip(uid)
            self.inspector.show_clip(clip, self.model.track(clip.track), self._version_text(clip))
            if self._history_clip == uid:
                self._show_history(clip)

    def _on_shot_selected(self, uid: str) -> None:
        if not uid or not self.model.has_shot(uid):
            if not self.view.selected_clips():
                self.inspector.show_nothing()
            return
        self._show_shot(self.model.shot(uid))

    def _show_shot(self, shot: Shot) -> None:
        inputs = []
        for c in self.model.conditions_for(shot):
            kind = self.model.track(c.track).kind.value
            what = (c.text or "")[:40] if c.version_id is None else c.label
            inputs.append(f"{kind}: {what}  ×{c.weight:g}")
        self.inspector.show_shot(shot, inputs)

    def _on_model_shot_changed(self, uid: str) -> None:
        if self.view.selected_shot() == uid:
            self._show_shot(self.model.shot(uid))

    def mark_shot_from_selection(self) -> str | None:
        uids = self.view.selected_clips()
        if not uids:
            self.statusBar().showMessage("Select clips to mark their span as a shot", 4000)
            return None
        clips = [self.model.clip(u) for u in uids]
        return self.view.mark_shot(min(c.start for c in clips), max(c.end for c in clips))

    def _toggle_snap(self) -> None:
        self.view.snapping = not self.view.snapping
        self.statusBar().showMessage(f"Snapping {'on' if self.view.snapping else 'off'}", 2000)

    # ---- generation -------------------------------------------------------------------------
    def generate_selected(self) -> int | None:
        uid = self.view.selected_shot()
        if uid is None:
            shot = self.model.shot_at(self.view.playhead)
            uid = shot.uid if shot else None
        if uid is None:
            self.statusBar().showMessage("Select a shot (drag in the shot lane to mark one)", 5000)
            return None
        return self.generate_shot(uid)

    def generate_shot(self, shot_uid: str) -> int | None:
        """Queues a generation of the shot; returns the queue's job id."""
        if self.session is None:
            return None
        shot = self.model.shot(shot_uid)
        try:
            request, inputs = self.session.request_for(shot)
        except (ValueError, store_error()) as exc:
            self._error("Cannot generate", str(exc))
            return None
        store_job = None
        try:
            store_job = self.session.project.create_job(
                {"shot": shot.name, "outputs": [m.value for m in request.outputs], "seed": request.seed,
                 "steps": request.steps, "guidance": request.guidance, "sampler": request.sampler,
                 "model": request.model, "inputs": [i.to_dict() for i in inputs]}).id
        except store_error() as exc:  # bookkeeping only: the generation itself can still run
            log.warning("could not record the job: %s", exc)
        label = f"{shot.name or 'Shot'} → {'+'.join(m.value for m in request.outputs)}"
        return self.queue.submit(shot.uid, request, label,
                                 {"inputs": inputs, "store_job": store_job, "shot": shot, "started": False},
                                 after=self.session.recorder(shot, request, inputs, store_job))

    def cancel_running(self) -> None:
        running = self.queue.running
        if running is not None:
            self.queue.cancel(running.id)

    def _on_job_changed(self, job_id: int) -> None:
        if job_id == 0 or self.session is None:
            return
        job = self.queue.job(job_id)
        store_job = job.context.get("store_job")
        try:
            if job.state == RUNNING and store_job is not None and not job.context.get("started"):
                job.context["started"] = True
                self.session.project.start_job(store_job)
            elif job.state == FAILED and store_job is not None and not job.context.get("closed"):
                job.context["closed"] = True
                self.session.project.fail_job(store_job, job.message)
            elif job.state == CANCELLED and store_job is not None and not job.context.get("closed"):
                job.context["closed"] = True
                if not job.context.get("started"):
                    self.session.project.start_job(store_job)
                self.session.project.cancel_job(store_job)
        except store_error() as exc:
            log.warning("job bookkeeping failed: %s", exc)
        previews = job.context.pop("previews", None)
        if previews:
            self._show_preview(previews, job.step, job.total)
        if job.state == RUNNING and job.total:
            eta = f", about {job.eta:.0f} s left" if job.eta is not None else ""
            self.statusBar().showMessage(f"{job.label}: step {job.step} of {job.total}{eta}", 2000)
        elif job.state == FAILED:
            self.statusBar().showMessage(f"{job.label} failed: {job.message}", 10000)

    def _show_preview(self, previews: dict, step: int, total: int) -> None:
        from codi_studio.media.values import Image, Text, Video  # noqa: PLC0415

        badge = f"preview {step}/{total}"
        for value in previews.values():
            if isinstance(value, Image):
                self.viewer.show_frame(value, badge=badge)
                return
            if isinstance(value, Video):
                self.viewer.show_frame(Image(value.frames[0]), badge=badge)
                return
            if isinstance(value, Text):
                self.viewer.show_frame(None, caption=value.text, badge=badge)
                return

    def _on_job_finished(self, job_id: int) -> None:
        job = self.queue.job(job_id)
        if self.session is None or job.result is None:
            return
        shot = self.model.shot(job.shot) if self.model.has_shot(job.shot) else job.context["shot"]
        added, updated = self.session.place_recorded(shot, job.recorded)
        job.context["closed"] = True
        self.undo.beginMacro(f"Generate {shot.name or 'shot'}")
        if added:
            self.undo.push(AddClipsCommand(self.model, added, "Place generated clips"))
        for clip in updated:
            self.undo.push(EditClipCommand(self.model, clip, "New version"))
        self.undo.endMacro()
        uids = [c.uid for c in added + updated]
        self.view.set_playhead(shot.start)
        self._refresh_frame()
        if self._history_clip in uids:
            self._show_history(self.model.clip(self._history_clip))
        self.generationRecorded.emit(job_id, uids)

    # ---- playback and the viewer -------------------------------------------------------------
    def _on_playhead(self, t: float) -> None:
        self._refresh_frame()

    def _refresh_frame(self) -> None:
        t = self.view.playhead
        self.viewer.set_time(t, self.model.duration)
        if self.session is None:
            self.viewer.show_frame(None)
            return
        placed = self.session.placed_clips()
        visual = [c for c in placed if c.kind in (Modality.IMAGE, Modality.VIDEO) and c.covers(t)]
        # native size: the viewer scales the picture itself, so no enlarging here
        picture = render_frame(placed, t, output_size(placed, min_side=2)) if visual else None
        self.viewer.show_frame(picture, caption=self.session.text_at(t))

    def toggle_play(self) -> None:
        if self._playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if self.session is None:
            return
        end = self.model.duration
        if self.view.playhead >= end - 1e-3:
            self.view.set_playhead(0.0)
        self._play_from = self.view.playhead
        self._playing = True
        self.viewer.set_playing(True)
        if self.audio.available:
            sound = mix_audio(self.session.placed_clips(), self._play_from, max(end, self._play_from + 0.1))
            self.audio.play(sound)
        self._play_clock.start()
        self._play_timer.start()

    def stop(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._play_timer.stop()
        self.audio.stop()
        self.viewer.set_playing(False)

    @property
    def playing(self) -> bool:
        return self._playing

    def _on_play_tick(self) -> None:
        t = self._play_from + self._play_clock.elapsed() / 1000.0
        if t >= self.model.duration:
            self.view.set_playhead(self.model.duration, ensure_visible=True)
            self.stop()
            return
        self.view.set_playhead(t, ensure_visible=True)

    def seek(self, t: float) -> None:
        was = self._playing
        self.stop()
        self.view.set_playhead(t, ensure_visible=True)
        if was:
            self.play()

    def step_frames(self, n: int) -> None:
        self.seek(max(0.0, self.view.playhead + n / 24.0))

    # ---- export and help --------------------------------------------------------------------
    def show_export_dialog(self) -> ExportDialog | None:
        if self.session is None:
            return None
        session = self.session
        dialog = ExportDialog(
            placed=session.placed_clips, playhead=self.view.playhead, duration=self.model.duration,
            save_project=self.save, export_bundle=lambda p: session.project.export_bundle(p),
            export_otio=lambda p: session.project.export_otio(p), default_dir=session.path.parent, parent=self)
        dialog.exported.connect(lambda p: self.statusBar().showMessage(f"Exported {p}", 6000))
        self._export_dialog = dialog
        if self.interactive:
            dialog.show()
        return dialog

    def show_shortcuts(self) -> QDialog:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(0, 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        for action in self.actions():
            if action.shortcut().isEmpty():
                continue
            row = table.rowCount()
            table.insertRow(row)
            table.setItem(row, 0, QTableWidgetItem(action.text().replace("&", "")))
            table.setItem(row, 1, QTableWidgetItem(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
        for extra in (("Move / trim clip", "drag body / edge"), ("Multi-select", "Ctrl+click, rubber band"),
                      ("Mark shot", "drag in the shot lane"), ("Zoom at mouse", "Ctrl+wheel")):
            row = table.rowCount()
            table.insertRow(row)
            table.setItem(row, 0, QTableWidgetItem(extra[0]))
            table.setItem(row, 1, QTableWidgetItem(extra[1]))
        table.resizeColumnsToContents()
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        dialog.resize(420, 520)
        if self.interactive:
            dialog.show()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(self, "CoDi Studio", "CoDi Studio: any-to-any generation with Composable Diffusion, "
                                               "offline, on a timeline.")

    def _error(self, title: str, text: str) -> None:
        log.warning("%s: %s", title, text)
        self.statusBar().showMessage(f"{title}: {text.splitlines()[0] if text else ''}", 10000)
        if self.interactive:
            QMessageBox.warning(self, title, text)

    # ---- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.save_layout()
        self.queue.shutdown()
        self.close_project()
        self._autosave.stop()
        super().closeEvent(event)

