"""Live mode in the Generate panel: the Live toggle and New seed, and the
glue between the document, the panel's settings and the live session.

While Live is on, each finished change in the frame (a stroke's end, a layer
shown or hidden, undo), and the prompt or strength once edits pause, hands a
snapshot of the frame to `artstudio.live.session.LiveSession`, which runs it
on the engine's GPU lane. The snapshot is a copy of the frame's composite
taken on the GUI thread; nothing here waits for a run, so the brush never
does. Results are shown by `live_view.LiveView`.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from artstudio.control.from_document import picture as guide_free_picture
from artstudio.diffusion.results import ResultTarget
from artstudio.document import Document
from artstudio.document.result_layers import contributing_uids
from artstudio.document.staleness import DocumentMark
from artstudio.engine import JobKind, JobState, Lane, RequestRefused
from artstudio.live.few_step import LiveSettings, live_settings
from artstudio.live.frame_watch import FrameWatcher
from artstudio.live.session import LiveRequest, LiveResult, LiveSession

EDIT_PAUSE_MS = 600  # a prompt being typed runs once the typing pauses
LIVE_MODE = "img2img"  # a live result applies like an image-to-image one: at the frame


class LiveControls(QWidget):
    """The Live row of the Generate panel, and the live session it drives."""

    result_ready = Signal(object)  # a LiveResult, current when emitted
    state_changed = Signal(str)  # what live is doing, for the live view
    went_live = Signal(bool)

    def __init__(self, panel, parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.runner = panel.runner
        self.doc: Document | None = None
        self._watcher: FrameWatcher | None = None
        self._settings: dict[tuple, LiveSettings] = {}
        self.latest: LiveResult | None = None
        self.session = LiveSession(self._submit, self.snapshot, self._result, self._paused)

        self.toggle = QCheckBox("Live")
        self.toggle.setObjectName("liveToggle")
        self.toggle.setToolTip("Regenerate the frame as you paint (image to image, few steps, "
                               "the same seed)")
        self.toggle.toggled.connect(self.set_live)
        self.new_seed_button = QPushButton("New seed")
        self.new_seed_button.setToolTip("Live keeps its seed so only what you paint changes; "
                                        "this picks another")
        self.new_seed_button.clicked.connect(lambda: self.session.new_seed())
        self.new_seed_button.setEnabled(False)
        self.note = QLabel("")
        self.note.setObjectName("liveNote")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.toggle)
        row.addStretch(1)
        row.addWidget(self.new_seed_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self.note.hide()

        self._edits = QTimer(self)
        self._edits.setSingleShot(True)
        self._edits.setInterval(EDIT_PAUSE_MS)
        self._edits.timeout.connect(self.session.changed)
        for signal in (panel.prompt.textChanged, panel.negative.textChanged,
                       panel.strength.valueChanged, panel.cfg.valueChanged):
            signal.connect(self._edited)
        panel.model.currentIndexChanged.connect(self._model_changed)

    # ---- on and off --------------------------------------------------------
    def set_live(self, on: bool) -> None:
        if on == self.session.active:
            return
        if not on:
            self.session.stop()
            self._say("")
        else:
            try:
                self.session.start()
            except RequestRefused as refusal:
                with QSignalBlocker(self.toggle):
                    self.toggle.setChecked(False)
                self._say(f"Live is off: {refusal}")
                return
            self._say(self.live_settings().note)
        with QSignalBlocker(self.toggle):
            self.toggle.setChecked(on)
        self.new_seed_button.setEnabled(on)
        self.went_live.emit(on)

    def set_document(self, doc: Document | None) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self.doc = doc
        self.latest = None
        if doc is not None:
            self._watcher = FrameWatcher(doc, self.session.changed)
        if self.session.active:
            self.set_live(False)

    def _edited(self, *_args) -> None:
        if self.session.active:
            self._edits.start()

    def _model_changed(self) -> None:
        if self.session.active:
            self._say(self.live_settings().note)
            if self.session.paused:  # another model may load where the last one failed
                self.session.resume()
            else:
                self.session.changed()

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))
        self.state_changed.emit(text)

    # ---- the snapshot: a copy of the frame and the panel's settings ---------
    def live_settings(self) -> LiveSettings:
        info = self.panel.model.currentData()
        if info is None:
            return LiveSettings(0, note="")
        variant = self.panel.settings.model_variants.get(info.short_hash)
        key = (str(info.path), info.kind, info.prediction, variant)
        if key not in self._settings:
            self._settings[key] = live_settings(*key)
        return self._settings[key]

    def snapshot(self) -> LiveRequest:
        doc, panel = self.doc, self.panel
        if doc is None:
            raise RequestRefused("Open or create a document first")
        frame = doc.frame.intersect(doc.rect)
        if frame.empty:
            raise RequestRefused("The generation frame is outside the canvas")
        base = panel.model_params()
        live = self.live_settings()
        params = replace(
            base, prompt=panel.prompt.toPlainText().strip(), width=frame.w, height=frame.h,
            # A copy (guide layers left out); the job flattens it.
            init_image=guide_free_picture(doc, frame), preview_every=0,
            steps=live.steps, strength=live.strength or panel.strength.value(),
            cfg_scale=base.cfg_scale if live.cfg_scale is None else live.cfg_scale,
            scheduler=live.scheduler or base.scheduler)
        target = ResultTarget(LIVE_MODE, frame, DocumentMark.of(doc),
                              made_from=contributing_uids(doc, frame))
        return LiveRequest(params, target)

    # ---- runs, on the engine's GPU lane through the window's runner ---------
    def _submit(self, fn, params, title, on_finished):
        return self.runner.run(
            fn, params, title=title, kind=JobKind.GENERATE, lane=Lane.ACCELERATOR,
            on_done=lambda result: on_finished(JobState.DONE, result, None),
            on_failed=lambda message: on_finished(JobState.FAILED, None, message),
            on_cancelled=lambda _result: on_finished(JobState.CANCELLED, None, None))

    def _result(self, result: LiveResult) -> None:
        self.latest = result
        self.result_ready.emit(result)

    def _paused(self, message: str) -> None:
        self._say(f"Live paused: {message} (change the model, or turn Live off and on, "
                  "to try again)")
