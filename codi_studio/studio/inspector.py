"""The inspector: fields of the selected clip, or the generation settings of the selected shot.

It edits copies and emits them; the window turns each into an undo command,
so inspector edits undo like any other timeline edit.
"""

from __future__ import annotations

import random
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from codi_studio.media.values import Modality
from codi_studio.service.requests import SAMPLERS
from codi_studio.studio.timeline_model import Clip, Shot, ShotSettings, Track

OUTPUT_ORDER = (Modality.IMAGE, Modality.VIDEO, Modality.AUDIO, Modality.TEXT)


def _spin(minimum: float, maximum: float, step: float, decimals: int, suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(minimum, maximum)
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setSuffix(suffix)
    s.setKeyboardTracking(False)
    return s


class ClipPage(QWidget):
    edited = Signal(object, str)  # new Clip, undo text

    def __init__(self) -> None:
        super().__init__()
        self._clip: Clip | None = None
        self._loading = False
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.weight = _spin(0.0, 10.0, 0.1, 2)
        self.start = _spin(0.0, 36000.0, 0.1, 2, " s")
        self.duration = _spin(0.05, 36000.0, 0.1, 2, " s")
        self.in_point = _spin(0.0, 36000.0, 0.1, 2, " s")
        self.version = QLabel()
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Text of this clip (a caption, a prompt)")
        self.text.setMaximumHeight(90)
        self._text_timer = QTimer(self, singleShot=True, interval=400)  # one undo step per pause in typing
        form = QFormLayout()
        form.addRow("Weight", self.weight)
        form.addRow("Start", self.start)
        form.addRow("Duration", self.duration)
        form.addRow("Trim in", self.in_point)
        form.addRow("Version", self.version)
        self.text_label = QLabel("Text")
        form.addRow(self.text_label, self.text)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addStretch(1)
        self.weight.valueChanged.connect(lambda v: self._emit(weight=float(v), text_="Change weight"))
        self.start.valueChanged.connect(lambda v: self._emit(start=float(v), text_="Move clip"))
        self.duration.valueChanged.connect(self._duration_changed)
        self.in_point.valueChanged.connect(self._in_changed)
        self.text.textChanged.connect(self._text_timer.start)
        self._text_timer.timeout.connect(lambda: self._emit(text=self.text.toPlainText(), text_="Edit text"))

    def show_clip(self, clip: Clip, track: Track, version_text: str) -> None:
        self._loading = True
        self._clip = clip
        self.title.setText(f"{clip.label or track.kind.value.title()} — {track.name}")
        self.weight.setValue(clip.weight)
        self.start.setValue(clip.start)
        self.duration.setValue(clip.duration)
        self.in_point.setValue(clip.in_point)
        self.in_point.setEnabled(clip.source_duration is not None)
        self.version.setText(version_text)
        is_text = track.kind == Modality.TEXT
        self.text.setVisible(is_text)
        self.text_label.setVisible(is_text)
        if is_text and self.text.toPlainText() != (clip.text or ""):
            self.text.setPlainText(clip.text or "")
        self._text_timer.stop()
        self._loading = False

    def _duration_changed(self, value: float) -> None:
        c = self._clip
        if c is None:
            return
        limit = c.source_duration - c.in_point if c.source_duration is not None else value
        self._emit(duration=float(min(value, limit)), text_="Trim clip")

    def _in_changed(self, value: float) -> None:
        c = self._clip
        if c is None or c.source_duration is None:
            return
        value = min(float(value), c.source_duration - 0.05)
        self._emit(in_point=value, duration=min(c.duration, c.source_duration - value), text_="Trim clip")

    def _emit(self, text_: str, **changes: object) -> None:
        if self._loading or self._clip is None:
            return
        new = replace(self._clip, **changes)  # type: ignore[arg-type]
        if new != self._clip:
            self._clip = new
            self.edited.emit(new, text_)


class ShotPage(QWidget):
    edited = Signal(object, str)  # new Shot, undo text
    generateRequested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._shot: Shot | None = None
        self._loading = False
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.range_label = QLabel()
        self.inputs_label = QPlainTextEdit()
        self.inputs_label.setReadOnly(True)
        self.inputs_label.setMaximumHeight(64)
        self.outputs = {m: QCheckBox(m.value) for m in OUTPUT_ORDER}
        outputs_row = QHBoxLayout()
        for box in self.outputs.values():
            outputs_row.addWidget(box)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        self.dice = QToolButton()
        self.dice.setText("Random")
        self.dice.setToolTip("A new random seed")
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)
        self.steps = QSpinBox()
        self.steps.setRange(1, 500)
        self.steps.setKeyboardTracking(False)
        self.guidance = _spin(0.0, 30.0, 0.5, 2)
        self.sampler = QComboBox()
        self.sampler.addItems(list(SAMPLERS))
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem("toy-v1 (embedded)", None)
        self.generate_button = QPushButton("Generate  (G)")
        self.generate_button.setStyleSheet("font-weight: bold; padding: 6px;")
        form = QFormLayout()
        form.addRow("Range", self.range_label)
        form.addRow("Inputs", self.inputs_label)
        form.addRow("Outputs", outputs_row)
        form.addRow("Seed", seed_row)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Sampler", self.sampler)
        form.addRow("Model", self.model)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.generate_button)
        layout.addStretch(1)
        for box in self.outputs.values():
            box.toggled.connect(lambda _=False: self._emit("Change outputs"))
        self.seed.valueChanged.connect(lambda _=0: self._emit("Change seed"))
        self.dice.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        self.steps.valueChanged.connect(lambda _=0: self._emit("Change steps"))
        self.guidance.valueChanged.connect(lambda _=0.0: self._emit("Change guidance"))
        self.sampler.currentTextChanged.connect(lambda _="": self._emit("Change sampler"))
        self.model.currentTextChanged.connect(lambda _="": self._emit("Change model"))
        self.generate_button.clicked.connect(lambda: self._shot and self.generateRequested.emit(self._shot.uid))

    def show_shot(self, shot: Shot, inputs: list[str]) -> None:
        self._loading = True
        self._shot = shot
        s = shot.settings
        self.title.setText(shot.name or "Shot")
        self.range_label.setText(f"{shot.start:.2f} s – {shot.end:.2f} s  ({shot.duration:.2f} s)")
        self.inputs_label.setPlainText("\n".join(inputs) if inputs else "none: put clips on condition tracks under it")
        for m, box in self.outputs.items():
            box.setChecked(m in s.outputs)
        self.seed.setValue(s.seed)
        self.steps.setValue(s.steps)
        self.guidance.setValue(s.guidance)
        self.sampler.setCurrentText(s.sampler)
        if s.model is None:
            self.model.setCurrentIndex(0)
        else:
            self.model.setCurrentText(s.model)
        self._loading = False

    def settings(self) -> ShotSettings:
        outputs = tuple(m for m in OUTPUT_ORDER if self.outputs[m].isChecked())
        model_text = self.model.currentText().strip()
        model = None if (self.model.currentIndex() == 0 and model_text == self.model.itemText(0)) or not model_text \
            else model_text
        return ShotSettings(outputs=outputs, seed=self.seed.value(), steps=self.steps.value(),
                            guidance=float(self.guidance.value()), sampler=self.sampler.currentText(), model=model)

    def _emit(self, text: str) -> None:
        if self._loading or self._shot is None:
            return
        settings = self.settings()
        if not settings.outputs:  # keep at least one output: re-tick what was there
            self.show_shot(self._shot, [])
            return
        new = replace(self._shot, settings=settings)
        if new != self._shot:
            self._shot = new
            self.edited.emit(new, text)


class Inspector(QStackedWidget):
    clipEdited = Signal(object, str)
    shotEdited = Signal(object, str)
    generateRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = QLabel("Select a clip or a shot.\nDrag along the shot lane to mark a shot.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #9a9ea6;")
        self.clip_page = ClipPage()
        self.shot_page = ShotPage()
        self.addWidget(self.empty)
        self.addWidget(self.clip_page)
        self.addWidget(self.shot_page)
        self.clip_page.edited.connect(self.clipEdited)
        self.shot_page.edited.connect(self.shotEdited)
        self.shot_page.generateRequested.connect(self.generateRequested)

    def show_nothing(self) -> None:
        self.setCurrentWidget(self.empty)

    def show_clip(self, clip: Clip, track: Track, version_text: str = "") -> None:
        self.clip_page.show_clip(clip, track, version_text)
        self.setCurrentWidget(self.clip_page)

    def show_shot(self, shot: Shot, inputs: list[str]) -> None:
        self.shot_page.show_shot(shot, inputs)
        self.setCurrentWidget(self.shot_page)
