"""The Interpolate panel: a journey between seeds, prompts or two pictures.

The artist gives the keyframes (seeds, prompts, or two pictures for a morph)
and how the journey moves; model, size, steps, CFG and sampler are the
Generate panel's. The journey runs as one job on the accelerator lane; its
frames land on disk (interpolation.frame_store) and fill a strip of
thumbnails as they arrive. A click sends a frame to the canvas as a layer;
the whole sequence can become layers or be exported.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from artstudio.document import Document
from artstudio.engine import JobEvent, JobHandle, JobKind, JobState, Lane, RequestRefused
from artstudio.engine.errors import UserFacingError
from artstudio.engine.jobs import waiting_text
from artstudio.interpolation.frame_layers import frame_to_layer, frames_to_layers
from artstudio.interpolation.frame_store import FrameStore
from artstudio.interpolation.journey import EASINGS, MAX_FPS, MAX_FRAMES, JourneyPlan, frames_for
from artstudio.interpolation.journey_job import (
    ExportJob,
    JourneyJob,
    check_journey,
    run_export,
    run_journey,
)
from artstudio.interpolation.keyframe_text import (
    keyframes_of_results,
    parse_prompts,
    parse_seeds,
)
from artstudio.interpolation.samplers import journey_sampler
from artstudio.settings import Settings, remember_folder, start_folder
from artstudio.ui.generate_panel import GeneratePanel
from artstudio.ui.images import pil_to_pixmap, rgba_over_white
from artstudio.ui.job_controls import job_controls
from artstudio.ui.job_runner import JobRunner

log = logging.getLogger(__name__)

THUMB = 72
TRAVEL, MORPH = "travel", "morph"
EXPORTS = {  # the export combo: label -> the file dialog's filter and the suffix it adds
    "PNG sequence (folder)": ("PNG sequence folder (*)", ""),
    "Animated GIF": ("Animated GIF (*.gif)", ".gif"),
    "Animated WebP": ("Animated WebP (*.webp)", ".webp"),
    "MP4 video (H.264)": ("MP4 video (*.mp4)", ".mp4"),
}
PICTURE_SIDES = ("a", "b")


def _same_picture(a, b) -> bool:
    """Do two picture choices name the same picture? A staged result by
    identity: comparing results would compare their pixels."""
    if a is None or b is None or a[0] != b[0]:
        return False
    return a[1] is b[1] if a[0] == "result" else a[1] == b[1]


class _FrameRelay(QObject):
    """Frames made on the worker, as thumbnails queued to the GUI thread."""

    arrived = Signal(object, int, object)  # the store, the frame's position, a PIL thumbnail


class InterpolationPanel(QWidget):
    note = Signal(str)  # for the window's status bar
    frame_applied = Signal(object)  # the new Layer

    def __init__(self, settings: Settings, runner: JobRunner, generate_panel: GeneratePanel,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = runner
        self.generate = generate_panel
        self.doc: Document | None = None
        self.store: FrameStore | None = None  # the newest journey's frames
        self._job: JobHandle | None = None
        self._export: JobHandle | None = None
        self._eta, self._progress_message = "", ""  # of the running journey
        self._relay = _FrameRelay(self)
        self._relay.arrived.connect(self._frame_arrived, Qt.ConnectionType.QueuedConnection)

        self.kind = QComboBox()
        self.kind.addItem("Seeds and prompts", TRAVEL)
        self.kind.addItem("Picture morph", MORPH)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.prompts = QPlainTextEdit()
        self.prompts.setObjectName("journeyPrompts")
        self.prompts.setPlaceholderText("Prompts, one per line (none: the Generate panel's)")
        self.prompts.setFixedHeight(62)
        self.seeds = QLineEdit()
        self.seeds.setObjectName("journeySeeds")
        self.seeds.setPlaceholderText("Seeds, e.g. 1, 2, 3 (none: the Generate panel's)")
        from_tray = QPushButton("From results")
        from_tray.setToolTip("Travel through the results staged in the Generate panel: "
                             "their seeds, and their prompts when they differ")
        from_tray.clicked.connect(self.keyframes_from_results)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seeds, 1)
        seed_row.addWidget(from_tray)

        self.pictures: dict[str, QComboBox] = {}
        picture_rows = {}
        for side in PICTURE_SIDES:
            combo = QComboBox()
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
            choose = QPushButton("File…")
            choose.clicked.connect(lambda _=False, s=side: self._choose_picture_file(s))
            row = QHBoxLayout()
            row.addWidget(combo, 1)
            row.addWidget(choose)
            self.pictures[side], picture_rows[side] = combo, row
        self._picture_rows = picture_rows
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.0, 0.95)
        self.strength.setSingleStep(0.05)
        self.strength.setSpecialValueText("none")
        self.strength.setToolTip("A light image-to-image pass per frame cleans what mixing two "
                                 "pictures blurs (0.2 to 0.4 keeps them recognisable)")

        self.frames = QSpinBox()
        self.frames.setRange(1, MAX_FRAMES)
        self.frames.setValue(12)
        self.by_duration = QCheckBox("Seconds")
        self.by_duration.setToolTip("Give the length in seconds at the frame rate instead")
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.1, MAX_FRAMES / 12)
        self.duration.setValue(2.0)
        self.duration.setSuffix(" s")
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1.0, MAX_FPS)
        self.fps.setValue(12.0)
        self.fps.setSuffix(" fps")
        self.by_duration.toggled.connect(self._length_changed)
        length_row = QHBoxLayout()
        length_row.addWidget(self.frames)
        length_row.addWidget(self.by_duration)
        length_row.addWidget(self.duration)
        self.ease = QComboBox()
        for name in EASINGS:
            self.ease.addItem(name.replace("-", " ").capitalize(), name)
        self.loop = QCheckBox("Loop back to the first keyframe")
        self.even = QCheckBox("Even motion")
        self.even.setToolTip("Place the in-between frames where the picture changes, so no "
                             "jump is more than twice the median (two keyframes, no loop; "
                             "costs extra renders)")
        options_row = QHBoxLayout()
        options_row.addWidget(self.ease)
        options_row.addWidget(self.even)

        self.settings_label = QLabel("")
        self.settings_label.setObjectName("journeySettings")
        self.settings_label.setWordWrap(True)
        self.sampler_note = QLabel("")
        self.sampler_note.setObjectName("journeySamplerNote")
        self.sampler_note.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Journey", self.kind)
        form.addRow(self.prompts)
        form.addRow("Seeds", seed_row)
        form.addRow("From", picture_rows["a"])
        form.addRow("To", picture_rows["b"])
        form.addRow("Clean-up", self.strength)
        form.addRow("Frames", length_row)
        # a row of its own: the panel must not be wider than the Generate panel it sits with
        form.addRow("Frame rate", self.fps)
        form.addRow("Easing", options_row)
        form.addRow(self.loop)
        form.addRow(self.settings_label)
        form.addRow(self.sampler_note)
        self._form = form

        self.start_button, self.cancel_button, buttons, self.progress = job_controls(
            "Make journey", "journeyButton", self.start, self.cancel)
        self.status = QLabel("")
        self.status.setObjectName("journeyStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.strip = QListWidget()
        self.strip.setObjectName("journeyStrip")
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.strip.setMovement(QListWidget.Movement.Static)
        self.strip.setSpacing(2)
        self.strip.setToolTip("Click a frame to add it to the canvas as a layer")
        self.strip.itemClicked.connect(lambda item: self.send_to_canvas(self.strip.row(item)))
        self.all_button = QPushButton("All frames as layers")
        self.all_button.clicked.connect(self.all_to_canvas)
        self.export_format = QComboBox()
        for label in EXPORTS:
            self.export_format.addItem(label)
        self.export_format.setCurrentIndex(1)
        self.repeat = QCheckBox("Repeat")
        self.repeat.setChecked(True)
        self.repeat.setToolTip("The GIF or WebP plays on repeat (an MP4 leaves it to the player)")
        self.pingpong = QCheckBox("Ping-pong")
        self.pingpong.setToolTip("Play forwards, then backwards")
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_dialog)
        frames_row = QHBoxLayout()
        frames_row.addWidget(self.all_button)
        frames_row.addStretch(1)
        frames_row.addWidget(self.repeat)
        frames_row.addWidget(self.pingpong)
        export_row = QHBoxLayout()
        export_row.addWidget(self.export_format, 1)
        export_row.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        # the status below the strip: a message of a new length must not move the frames
        # under the pointer
        layout.addWidget(self.strip, 1)
        layout.addWidget(self.status)
        layout.addLayout(frames_row)
        layout.addLayout(export_row)

        runner.bridge.job_changed.connect(self._job_changed)
        g = generate_panel
        for signal in (g.model.currentIndexChanged, g.sampler.currentIndexChanged,
                       g.steps.valueChanged, g.cfg.valueChanged, g.width_box.valueChanged,
                       g.height_box.valueChanged):
            signal.connect(self.show_generation_settings)
        g.results.added.connect(lambda *_: self.refresh_pictures())
        g.results.removed.connect(lambda *_: self.refresh_pictures())
        self._kind_changed()
        self._length_changed(False)
        self._frames_shown()
        self.show_generation_settings()

    # ---- binding -----------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.events.layers_changed.disconnect(self._layers_changed)
        self.doc = doc
        if doc is not None:
            doc.events.layers_changed.connect(self._layers_changed)
        self.refresh_pictures()
        self._frames_shown()

    def _layers_changed(self, *_args) -> None:
        self.refresh_pictures()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.show_generation_settings()

    def show_generation_settings(self, *_args) -> None:
        """What the journey takes from the Generate panel, and what the
        journey does with its sampler (samplers.journey_sampler)."""
        g = self.generate
        info = g.model.currentData()
        model = info.name if info is not None else "no model chosen"
        self.settings_label.setText(
            f"From the Generate panel: {model}, {g.width_box.value()}×{g.height_box.value()}, "
            f"{g.steps.value()} steps, CFG {g.cfg.value():g}, {g.sampler.currentText()}")
        _name, note = journey_sampler(g.sampler.currentData())
        self.sampler_note.setText(note)
        self.sampler_note.setVisible(bool(note))

    def _kind_changed(self) -> None:
        morph = self.kind.currentData() == MORPH
        for row in self._picture_rows.values():
            self._form.setRowVisible(row, morph)
        self._form.setRowVisible(self.strength, morph)
        self._form.setRowVisible(self.loop, not morph)
        self.even.setVisible(not morph)
        if morph:
            self.refresh_pictures()

    def _length_changed(self, by_duration: bool) -> None:
        self.frames.setVisible(not by_duration)
        self.duration.setVisible(by_duration)

    # ---- keyframes -----------------------------------------------------------
    def keyframes_from_results(self) -> None:
        """The staged results' seeds (and prompts when they differ) as keyframes."""
        seeds, prompts = keyframes_of_results(self.generate.results.candidates)
        if not seeds:
            self.status.setText("The Generate panel has no staged results with a seed")
            return
        self.kind.setCurrentIndex(self.kind.findData(TRAVEL))
        self.seeds.setText(", ".join(str(s) for s in seeds))
        self.prompts.setPlainText("\n".join(prompts))
        self.status.setText(f"{len(seeds)} keyframes from the staged results")

    def refresh_pictures(self) -> None:
        """The pictures a morph can start and end at: the document's layers,
        the staged results, and the files chosen so far."""
        entries = []
        if self.doc is not None:
            for layer in reversed(self.doc.layers):
                entries.append((f"Layer: {layer.name}", ("layer", layer.uid)))
        for i, candidate in enumerate(self.generate.results.candidates):
            entries.append((f"Result {i + 1}: {candidate.label}", ("result", candidate)))
        for side, combo in self.pictures.items():
            current = combo.currentData()
            files = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())
                     if combo.itemData(i)[0] == "file"]
            combo.blockSignals(True)
            combo.clear()
            for text, data in entries + files:
                combo.addItem(text, data)
            index = next((i for i in range(combo.count())
                          if _same_picture(combo.itemData(i), current)), -1)
            if index < 0 and side == "b" and combo.count() > 1:
                index = 1  # a morph starts from one picture and ends at another
            combo.setCurrentIndex(max(0, index) if combo.count() else -1)
            combo.blockSignals(False)

    def add_picture_file(self, side: str, path: Path) -> None:
        combo = self.pictures[side]
        combo.addItem(f"File: {Path(path).name}", ("file", Path(path)))
        combo.setCurrentIndex(combo.count() - 1)

    def _choose_picture_file(self, side: str) -> None:
        folder = start_folder(self.settings, "images")
        name, _ = QFileDialog.getOpenFileName(self, "Picture for the morph", str(folder),
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif "
                                              "*.tiff)")
        if name:
            remember_folder(self.settings, "images", Path(name))
            self.add_picture_file(side, Path(name))

    def _picture(self, side: str):
        """The chosen picture of one side, as an RGB PIL image (a snapshot)."""
        from artstudio.document.io_images import load_image

        data = self.pictures[side].currentData()
        which = "first" if side == "a" else "second"
        if data is None:
            raise RequestRefused(f"Choose the morph's {which} picture: a layer, a result or "
                                 "a file")
        source, value = data
        if source == "layer":
            if self.doc is None or value not in {layer.uid for layer in self.doc.layers}:
                raise RequestRefused(f"The morph's {which} layer is no longer in the document")
            layer = self.doc.layers[self.doc.index_of(value)]
            return rgba_over_white(layer.pixels)
        if source == "result":
            return value.image.convert("RGB")
        try:
            pixels, _notes = load_image(value, self.settings.max_image_megapixels)
        except (OSError, ValueError) as exc:
            raise RequestRefused(f"Could not read {value.name}: {exc}") from exc
        return rgba_over_white(pixels)

    # ---- the journey ---------------------------------------------------------
    def build_plan(self) -> tuple[JourneyPlan, bool]:
        """The journey the panel describes, checked; (plan, even motion).
        RequestRefused or UserFacingError say why it cannot start."""
        base = replace(self.generate.model_params(), preview_every=0)
        prompts = parse_prompts(self.prompts.toPlainText())
        if not prompts and self.generate.prompt.toPlainText().strip():
            prompts = (self.generate.prompt.toPlainText().strip(),)
        seeds = parse_seeds(self.seeds.text())
        if not seeds:
            seed = self.generate.seed.value()
            seeds = (int(seed) if seed >= 0 else secrets.randbelow(2**32),)
        fps = self.fps.value()
        if self.by_duration.isChecked():
            frames = frames_for(None, self.duration.value(), fps)
        else:
            frames = frames_for(self.frames.value(), None, fps)
        morph = self.kind.currentData() == MORPH
        images = (self._picture("a"), self._picture("b")) if morph else None
        plan = JourneyPlan(base, prompts=prompts, seeds=seeds, frames=frames,
                           ease=self.ease.currentData(), loop=self.loop.isChecked() and not morph,
                           images=images, strength=self.strength.value() if morph else 0.0)
        even = self.even.isChecked() and not morph
        check_journey(plan, even)
        return plan, even

    def start(self) -> JobHandle | None:
        if self._job is not None:
            self.status.setText("A journey is being made: cancel it first")
            return None
        try:
            plan, even = self.build_plan()
        except (RequestRefused, UserFacingError) as refusal:
            self.status.setText(str(refusal))
            return None
        store = FrameStore(plan.frames)
        relay = self._relay

        def arrived(position: int, frame) -> None:  # on the worker
            thumb = frame.image.copy()
            thumb.thumbnail((THUMB, THUMB))
            relay.arrived.emit(store, position, thumb)

        old = self.store
        if old is not None and not self._exporting():
            old.close()  # its frames are in no view any more
        self.store = store
        self.strip.clear()
        self._frames_shown()
        keys = len(plan.keyframes)
        title = f"Journey: {plan.frames} frames, {keys} keyframes"
        self._job = self.runner.run(
            run_journey, JourneyJob(plan, store, even, arrived), title=title,
            kind=JobKind.INTERPOLATE, lane=Lane.ACCELERATOR,
            on_done=lambda result: self._finished(store, result),
            on_failed=self._failed,
            on_cancelled=lambda result: self._cancelled(store, result))
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText(waiting_text(self.runner.engine.jobs_ahead(self._job.id)))
        return self._job

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _frame_arrived(self, store: FrameStore, position: int, thumb) -> None:
        if store is not self.store:
            return  # a frame of an older journey
        item = QListWidgetItem(QIcon(pil_to_pixmap(thumb)), str(position + 1))
        item.setToolTip(f"Frame {position + 1} of {store.planned}: click to add it to the "
                        "canvas as a layer")
        self.strip.addItem(item)
        self._frames_shown()
        if self._job is not None:
            self._show_running()

    def _job_changed(self, event: JobEvent) -> None:
        job = self._job
        if job is None or event.job_id != job.id:
            if job is not None and job.state is JobState.QUEUED:
                self.status.setText(waiting_text(self.runner.engine.jobs_ahead(job.id)))
            return
        if event.state is JobState.RUNNING and event.progress is not None:
            p = event.progress
            if p.total > 0:
                self.progress.setRange(0, p.total)
                self.progress.setValue(p.step)
            self._eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds else ""
            self._progress_message = p.message or "Working"
            self._show_running()
        elif event.state.finished:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if event.state is JobState.DONE else 0)
            self._job = None
            self.start_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self._frames_shown()

    def _show_running(self) -> None:
        """The frames made so far (the strip's count: progress events are
        rate-limited, frames are not), or what the job is doing before the first."""
        store = self.store
        made = f"{len(store)} of {store.planned} frames made" if store and len(store) else ""
        self.status.setText(f"{made or self._progress_message}{self._eta}")

    def _finished(self, store: FrameStore, result) -> None:
        # the sampler's note is shown above already
        notes = " ".join(n for n in result.notes if n != self.sampler_note.text())
        text = f"{len(store)} frames: click one to add it to the canvas. {notes}".strip()
        self.status.setText(text)
        self.note.emit(f"Journey done: {len(store)} frames")

    def _cancelled(self, store: FrameStore, result) -> None:
        store.cancelled = True
        kept = len(store)
        self.status.setText(f"Cancelled: {kept} of {store.planned} frames made, and kept"
                            if kept else "Cancelled before the first frame")
        self._frames_shown()

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _frames_shown(self) -> None:
        has = self.store is not None and self.strip.count() > 0
        self.all_button.setEnabled(has and self.doc is not None)
        self.export_button.setEnabled(has and self._job is None)

    # ---- frames to the document -----------------------------------------------
    def send_to_canvas(self, position: int):
        """One frame as a new layer (one undo step); the layer, or None."""
        if self.doc is None:
            self.status.setText("Open or create a document first")
            return None
        if self.store is None or not 0 <= position < len(self.store):
            return None
        layer = frame_to_layer(self.doc, self.store.frame(position), self.store.planned)
        self.status.setText(f"Frame {position + 1} added as layer “{layer.name}”")
        self.frame_applied.emit(layer)
        return layer

    def all_to_canvas(self) -> list:
        """Every frame made so far as a layer, the first at the bottom (one undo step)."""
        if self.doc is None or self.store is None or not len(self.store):
            return []
        layers = frames_to_layers(self.doc, self.store, self.store.planned)
        self.status.setText(f"{len(layers)} frames added as layers (save as .ora to keep "
                            "the sequence)")
        return layers

    # ---- export ----------------------------------------------------------------
    def export_dialog(self) -> None:
        if self.store is None or not len(self.store):
            return
        label = self.export_format.currentText()
        file_filter, suffix = EXPORTS[label]
        folder = start_folder(self.settings, "exports")
        default = str(folder / f"journey{suffix}")
        name, _ = QFileDialog.getSaveFileName(self, f"Export the journey: {label}", default,
                                              file_filter)
        if not name:
            return
        path = Path(name)
        if suffix and path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        remember_folder(self.settings, "exports", path)
        # the save dialog has asked about replacing an existing file
        self.export_to(path, overwrite=True)

    def export_to(self, path: Path, overwrite: bool = False) -> JobHandle | None:
        """Write the frames made so far to `path` (a folder, .gif, .webp or
        .mp4) on the pool; the status says what was written."""
        store = self.store
        if self._job is not None:  # the file would look complete without being so
            self.status.setText("The journey is still being made: export it when it is done, "
                                "or cancel it and export the frames it made")
            return None
        if store is None or not len(store):
            self.status.setText("There are no frames to export yet")
            return None
        job = ExportJob(store, Path(path), fps=self.fps.value(), loop=self.repeat.isChecked(),
                        pingpong=self.pingpong.isChecked(), overwrite=overwrite)
        self.status.setText(f"Exporting {store.describe()} to {Path(path).name}…")
        self._export = self.runner.run(run_export, job, title=f"Export {Path(path).name}",
                                       kind=JobKind.FILE, lane=Lane.POOL,
                                       on_done=self._exported, on_failed=self._export_failed,
                                       on_cancelled=lambda _r: self._export_failed("Cancelled"))
        return self._export

    def _exporting(self) -> bool:
        export = self._export
        return export is not None and not export.state.finished

    def _export_failed(self, message: str) -> None:
        self._export = None
        self.status.setText(message)

    def _exported(self, report) -> None:
        self._export = None
        text = f"Exported {report.path.name}: {report.frames} frames"
        if report.notes:
            text += ". " + "; ".join(report.notes)
        self.status.setText(text)
        self.note.emit(text)
