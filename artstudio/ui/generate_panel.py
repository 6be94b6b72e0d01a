"""The Generate panel: prompt-based creation on the canvas.

Text-to-image, image-to-image, inpainting, outpainting and erasing, driven
from the generation frame and the mask. The panel snapshots what a job needs
on the GUI thread (pixels of the frame, the mask, the settings), runs the
generator on the accelerator lane, shows a live preview, and lands results in
a staging tray: the artist applies one as a layer, discards, or reruns.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QEvent, QObject, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from artstudio.control.from_document import picture as guide_free_picture
from artstudio.diffusion.history import (
    GenerationHistory,
    HistoryEntry,
    changed_inputs,
    restore_plan,
)
from artstudio.diffusion.params import MAX_SEED, SEED_MODES, GenerationParams
from artstudio.diffusion.results import (
    OTHER_DOCUMENT,
    Candidate,
    ResultTarget,
    ResultTray,
    erased_candidate,
    generated_candidates,
)
from artstudio.diffusion.schedulers import SAMPLERS
from artstudio.document import Document, Rect
from artstudio.document.result_layers import contributing_uids
from artstudio.document.staleness import DocumentMark
from artstudio.engine import JobEvent, JobHandle, JobKind, JobState, Lane, RequestRefused
from artstudio.engine.jobs import waiting_text
from artstudio.settings import Settings, remember_folder, save_settings, start_folder
from artstudio.ui.assist_controls import AssistControls
from artstudio.ui.guide_layers import GuideNote
from artstudio.ui.images import pil_to_pixmap, rgba_over_white
from artstudio.ui.job_controls import job_controls
from artstudio.ui.job_runner import JobRunner
from artstudio.ui.live_mode import LiveControls
from artstudio.ui.lora_list import LoraList
from artstudio.ui.model_parts import ModelParts
from artstudio.ui.result_preview import CanvasPreview, candidate_rect

log = logging.getLogger(__name__)

MODE_TXT2IMG, MODE_IMG2IMG, MODE_INPAINT, MODE_OUTPAINT, MODE_ERASE, MODE_EDIT = (
    "txt2img", "img2img", "inpaint", "outpaint", "erase", "edit")
MODE_LABELS = {
    MODE_TXT2IMG: "Text to image",
    MODE_IMG2IMG: "Image to image (frame)",
    MODE_INPAINT: "Inpaint the mask",
    MODE_OUTPAINT: "Outpaint (extend canvas)",
    MODE_ERASE: "Erase the mask (no model)",
}
EDIT_LABEL = "Edit the frame by instruction"  # offered only for models that can (Kontext)
NO_NEGATIVE_TIP = "{family} has no negative prompt: describe what you want instead."
PRESETS: dict[str, dict[str, Any]] = {
    "Draft: 8 steps, Euler a": {"steps": 8, "cfg_scale": 6.0, "scheduler": "euler_a"},
    "Balanced: 20 steps, DPM++ 2M Karras": {"steps": 20, "cfg_scale": 7.0,
                                            "scheduler": "dpmpp_2m_karras"},
    "Detailed: 40 steps, DPM++ 2M Karras": {"steps": 40, "cfg_scale": 7.0,
                                            "scheduler": "dpmpp_2m_karras"},
    "LCM models: 4 steps, CFG 1.5": {"steps": 4, "cfg_scale": 1.5, "scheduler": "lcm"},
}
THUMB = 96
# The controls start at GenerationParams' defaults: one place says what they are.
DEFAULTS = GenerationParams(model="")
SEED_MODE_LABELS = {"increment": "next +1", "fixed": "same", "random": "random"}
RANDOM_SEED = -1  # the seed box's "Random" (GenerationParams.seed None)
# Unlike the command line, inpainting on the canvas works on the masked area at
# full detail by default: masks there are usually small parts of a large painting.
ONLY_MASKED_ON_CANVAS = True


class GeneratePanel(QWidget):
    generation_applied = Signal(object)  # the new Layer
    note = Signal(str)  # for the window's status bar: where a result went, what was restored

    def __init__(self, settings: Settings, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.settings = settings
        self.runner = runner
        self.doc: Document | None = None
        self._mask_painted = False  # has the mask had its first stroke (see _mask_changed)
        self.history = GenerationHistory()
        self.results = ResultTray()
        self.canvas_preview: CanvasPreview | None = None  # the canvas's, once attached
        self._job: JobHandle | None = None  # the newest: its progress is shown
        self._jobs: dict[int, JobHandle] = {}  # every job of this panel not yet finished

        self.model = QComboBox()
        self.model.setObjectName("modelCombo")
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(16)
        refresh = QToolButton()
        refresh.setText("Rescan")
        refresh.setToolTip("Look for models again in the model folders (Tools > Settings)")
        refresh.clicked.connect(self.refresh_models)
        download = QToolButton()
        download.setText("Download…")
        download.setToolTip("Download a diffusers model from Hugging Face by its repo id "
                            "(the only time Artstudio goes online)")
        download.clicked.connect(self._ask_download)
        self.mode = QComboBox()
        for key, label in MODE_LABELS.items():
            self.mode.addItem(label, key)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.model.currentIndexChanged.connect(self._model_changed)
        # What the last model's family starts from; SD's are GenerationParams' defaults.
        self._family_defaults = {"steps": DEFAULTS.steps, "cfg_scale": DEFAULTS.cfg_scale,
                                 "scheduler": DEFAULTS.scheduler}
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Describe the picture…")
        self.prompt.setFixedHeight(70)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("Negative prompt: what to avoid")
        self.negative.setFixedHeight(44)
        self.preset = QComboBox()
        self.preset.addItem("Preset…", None)
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.preset.activated.connect(self._preset_chosen)

        self.steps = QSpinBox()
        self.steps.setRange(1, 150)
        self.steps.setValue(DEFAULTS.steps)
        self.cfg = QDoubleSpinBox()
        self.cfg.setRange(0.0, 30.0)
        self.cfg.setSingleStep(0.5)
        self.cfg.setValue(DEFAULTS.cfg_scale)
        self.sampler = QComboBox()
        for name, spec in SAMPLERS.items():
            self.sampler.addItem(spec.label, name)
        self.sampler.setCurrentIndex(max(0, self.sampler.findData(DEFAULTS.scheduler)))
        # Seeds reach 2**32 - 1, past what a QSpinBox holds: a whole-number double box.
        self.seed = QDoubleSpinBox()
        self.seed.setDecimals(0)
        self.seed.setRange(RANDOM_SEED, MAX_SEED)
        self.seed.setSpecialValueText("Random")
        self.seed.setValue(RANDOM_SEED if DEFAULTS.seed is None else DEFAULTS.seed)
        self.seed_mode = QComboBox()
        for mode in SEED_MODES:
            self.seed_mode.addItem(SEED_MODE_LABELS.get(mode, mode), mode)
        self.seed_mode.setCurrentIndex(self.seed_mode.findData(DEFAULTS.seed_mode))
        self.count = QSpinBox()
        self.count.setRange(1, 16)
        self.count.setValue(DEFAULTS.count)
        self.match_frame = QCheckBox("Frame size")
        self.match_frame.setChecked(True)
        self.match_frame.setToolTip("Generate at the generation frame's size (shown greyed); "
                                    "off: at the size given, placed in the frame keeping "
                                    "its aspect ratio")
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, DEFAULTS.width), (self.height_box, DEFAULTS.height)):
            box.setRange(64, 4096)
            box.setSingleStep(8)
            box.setValue(value)
        self.match_frame.toggled.connect(self._size_enabled)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.01, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(DEFAULTS.strength)
        self.mask_blur = QSpinBox()
        self.mask_blur.setRange(0, 64)
        self.mask_blur.setValue(DEFAULTS.mask_blur)
        self.padding = QSpinBox()
        self.padding.setRange(0, 512)
        self.padding.setValue(DEFAULTS.mask_padding)
        self.only_masked = QCheckBox("Only the masked area (full detail)")
        self.only_masked.setChecked(ONLY_MASKED_ON_CANVAS)
        self.outpaint_boxes = []
        self.outpaint_widget = QWidget()
        outpaint_row = QHBoxLayout(self.outpaint_widget)
        outpaint_row.setContentsMargins(0, 0, 0, 0)
        for side in ("Left", "Top", "Right", "Bottom"):
            box = QSpinBox()
            box.setRange(0, 2048)
            box.setSingleStep(64)
            box.setToolTip(f"Pixels to add on the {side.lower()}")
            box.setValue(128 if side == "Right" else 0)
            self.outpaint_boxes.append(box)
            outpaint_row.addWidget(QLabel(side[0]))
            outpaint_row.addWidget(box)
        self.erase_method = QComboBox()
        self.erase_method.addItem("Telea (fast marching)", "telea")
        self.erase_method.addItem("Navier-Stokes", "navier-stokes")

        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(refresh)
        model_row.addWidget(download)
        size_row = QHBoxLayout()
        size_row.addWidget(self.match_frame)
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_box)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_mode)

        form = QFormLayout()
        form.addRow("Model", model_row)
        self.parts = ModelParts()  # a split model's encoders and VAE, when it has them
        form.addRow("Parts", self.parts)
        form.addRow("Mode", self.mode)
        form.addRow(self.prompt)
        self.guide_note = GuideNote()  # guide layers the model's family cannot use
        form.addRow(self.guide_note)
        self.assists = AssistControls(self)  # Describe, Expand, Tileable, best of N
        form.addRow(self.assists.row)
        form.addRow(self.assists.choice)
        form.addRow(self.negative)
        self.lora_list = LoraList(self.prompt)  # in sync with the prompt's <lora:> tags
        form.addRow("LoRAs", self.lora_list)
        form.addRow("Preset", self.preset)
        form.addRow("Steps", self.steps)
        form.addRow("CFG scale", self.cfg)
        form.addRow("Sampler", self.sampler)
        form.addRow("Seed", seed_row)
        form.addRow("Images", self.count)
        form.addRow("Size", size_row)
        form.addRow("Strength", self.strength)
        form.addRow("Mask blur", self.mask_blur)
        form.addRow("Padding", self.padding)
        form.addRow(self.only_masked)
        form.addRow("Extend", self.outpaint_widget)
        form.addRow("Erase with", self.erase_method)
        self._form = form
        form.setRowVisible(self.parts, False)

        self.generate_button, self.cancel_button, buttons, self.progress = job_controls(
            "Generate", "generateButton", self.generate, self.cancel)
        self.generate_button.setDefault(True)
        self.preview = QLabel("")
        self.preview.setObjectName("generationPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_found_button = QPushButton()  # other apps' model folders, when none is found
        self.add_found_button.setObjectName("addFoundFolders")
        self.add_found_button.clicked.connect(self._add_found_folders)
        self.add_found_button.hide()
        self._found_folders: list = []

        # Staging tray and history, in tabs under the controls.
        self.tray = QListWidget()
        self.tray.setObjectName("stagingTray")
        self.tray.setViewMode(QListWidget.ViewMode.IconMode)
        self.tray.setIconSize(QSize(THUMB, THUMB))
        self.tray.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.tray.setMovement(QListWidget.Movement.Static)
        self.tray.itemDoubleClicked.connect(lambda _item: self.apply_selected())
        self.tray.currentRowChanged.connect(self.results.select)
        self.results.added.connect(self._result_added)
        self.results.removed.connect(self._result_removed)
        self.results.selection_changed.connect(self.tray.setCurrentRow)
        self.results.selection_changed.connect(lambda _index: self.preview_selected())
        self.tray.itemClicked.connect(lambda _item: self.preview_selected())  # after Escape
        # Discarding the only result leaves "none selected" as it was: no selection event.
        self.results.removed.connect(lambda _index: self.preview_selected())
        self.tray.installEventFilter(self)  # Escape in the tray hides the preview too
        tray_buttons = QHBoxLayout()
        for arrow, delta, tip in ((Qt.ArrowType.LeftArrow, -1, "Previous result (← on the canvas)"),
                                  (Qt.ArrowType.RightArrow, 1, "Next result (→ on the canvas)")):
            step = QToolButton()
            step.setArrowType(arrow)
            step.setToolTip(tip)
            step.clicked.connect(lambda _=False, d=delta: self.results.step(d))
            tray_buttons.addWidget(step)
        for text, slot, tip in (("Apply", self.apply_selected, "Add as a new layer at the frame"),
                                ("Discard", self.discard_selected, "Remove from the tray"),
                                ("Same seed", self.rerun_selected,
                                 "Put this seed in the settings to rerun it with a tweak"),
                                ("Save…", self.save_selected, "Save as PNG with its parameters")):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            tray_buttons.addWidget(button)
        tray_page = QWidget()
        tray_layout = QVBoxLayout(tray_page)
        tray_layout.setContentsMargins(0, 0, 0, 0)
        tray_buttons.addWidget(self.assists.show_all)
        tray_layout.addWidget(self.tray)
        tray_layout.addLayout(tray_buttons)

        self.history_filter = QLineEdit()
        self.history_filter.setPlaceholderText("Search prompts…")
        self.history_filter.textChanged.connect(self._fill_history)
        self.history_list = QListWidget()
        self.history_list.setObjectName("generationHistory")
        self.history_list.itemDoubleClicked.connect(self._history_chosen)
        history_page = QWidget()
        history_layout = QVBoxLayout(history_page)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(self.history_filter)
        history_layout.addWidget(self.history_list)
        self.tabs = QTabWidget()
        self.tabs.addTab(tray_page, "Results")
        self.tabs.addTab(history_page, "History")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.live = LiveControls(self)  # the Live toggle: the frame regenerates as you paint
        layout.addWidget(self.live)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.add_found_button)
        layout.addWidget(self.preview)
        layout.addWidget(self.tabs, 1)

        runner.bridge.job_changed.connect(self._job_changed)
        self._mode_changed()
        self._size_enabled(True)
        self._fill_history()
        self.models: list = []
        self.taesd: dict[str, Path | None] = {}  # preview decoders found, by family

    # ---- binding ---------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.events.frame_changed.disconnect(self._frame_changed)
            self.doc.events.size_changed.disconnect(self._frame_changed)
            self.doc.events.mask_changed.disconnect(self._mask_changed)
        self.doc = doc
        if doc is not None:
            doc.events.frame_changed.connect(self._frame_changed)
            doc.events.size_changed.connect(self._frame_changed)
            doc.events.mask_changed.connect(self._mask_changed)
        self.generate_button.setEnabled(doc is not None)
        self.guide_note.set_document(doc)
        self.live.set_document(doc)
        self._hide_preview()
        # A document that comes with a mask already had its first stroke.
        self._mask_painted = doc is not None and bool(doc.mask.any())
        self._show_frame_size()

    def _mask_changed(self, rect: Rect) -> None:
        """The first stroke of a mask means inpainting (Krita AI Diffusion's
        habit with a selection): Text to image turns to Inpaint once; the
        artist may switch back, and it switches again only after the mask
        was cleared."""
        mask = self.doc.mask
        if not self._mask_painted:
            if not mask[rect.intersect(self.doc.rect).slices()].any():
                return
            self._mask_painted = True
            if self.mode.currentData() == MODE_TXT2IMG and self._mode_enabled(MODE_INPAINT):
                self.mode.setCurrentIndex(self.mode.findData(MODE_INPAINT))
                self.status.setText("Mask painted: the mode is now Inpaint "
                                    "(choose Text to image in Mode to go back)")
        elif not mask[rect.intersect(self.doc.rect).slices()].any():
            self._mask_painted = bool(mask.any())  # whole-mask check only where it emptied

    def _frame_changed(self, *_args) -> None:
        self._show_frame_size()

    def _show_frame_size(self) -> None:
        """With "Frame size" on, the greyed size fields say the size a job gets."""
        if self.doc is None or not self.match_frame.isChecked():
            return
        frame = self._frame()
        if not frame.empty:
            self.width_box.setValue(frame.w)
            self.height_box.setValue(frame.h)

    def refresh_models(self) -> None:
        self.status.setText("Looking for models…")
        # Imported here: scanning needs the model-file readers, the window's start does not.
        from artstudio.diffusion.find_models import find_diffusion_models

        self.runner.run(find_diffusion_models, list(self.settings.model_folders),
                        title="Find models", kind=JobKind.INTERNAL, lane=Lane.POOL,
                        on_done=self._models_scanned, on_failed=self.status.setText)
        self.lora_list.refresh(self.runner)

    def _models_scanned(self, found) -> None:
        self.taesd = found.preview_decoders
        self.set_models(found.models)
        if found.missing_folders:
            names = ", ".join(str(p) for p in found.missing_folders)
            self.status.setText(f"Model folder not found: {names} (a drive not connected?). "
                                f"{self.status.text()}")

    def set_models(self, infos: list) -> None:
        current = self.model.currentData()
        self.models = list(infos)
        self.model.clear()
        for info in self.models:
            size = (f"{info.size / 2**30:.1f} GB" if info.size >= 2**30
                    else f"{info.size / 2**20:.0f} MB")
            self.model.addItem(f"{info.name}  ({info.kind}, {size})", info)
            self.model.setItemData(self.model.count() - 1, str(info.path),
                                   Qt.ItemDataRole.ToolTipRole)
        if current is not None:
            for i in range(self.model.count()):
                if self.model.itemData(i).path == current.path:
                    self.model.setCurrentIndex(i)
        if not self.models:
            from artstudio import paths

            self.status.setText(f"No Stable Diffusion model found. Put a .safetensors checkpoint "
                                f"or a diffusers folder in {paths.user_models_dir()}, or add the "
                                "folder that holds yours in Tools > Settings.")
            self._look_for_other_apps()
        else:
            self.add_found_button.hide()
            count = len(self.models)
            self.status.setText(f"{count} model{'' if count == 1 else 's'} found")

    def _look_for_other_apps(self) -> None:
        from artstudio.model_files.other_apps import find_other_app_folders

        self.runner.run(lambda known, progress, cancel: find_other_app_folders(known=known),
                        list(self.settings.model_folders), title="Find other apps' models",
                        kind=JobKind.INTERNAL, lane=Lane.POOL, on_done=self._other_apps_found,
                        on_failed=lambda message: None)

    def _other_apps_found(self, found: list) -> None:
        self._found_folders = list(found)
        if not found or self.models:
            self.add_found_button.hide()
            return
        apps = ", ".join(dict.fromkeys(f.app for f in found))
        count = len(found)
        self.add_found_button.setText(f"Use the models of {apps} ({count} folder"
                                      f"{'' if count == 1 else 's'})")
        self.add_found_button.setToolTip("\n".join(f.describe() for f in found))
        self.add_found_button.show()

    def _add_found_folders(self) -> None:
        folders = [str(f.folder) for f in self._found_folders]
        self.settings.model_folders = [*self.settings.model_folders,
                                       *(f for f in folders if f not in
                                         self.settings.model_folders)]
        problem = save_settings(self.settings)
        self.add_found_button.hide()
        self._found_folders = []
        self.refresh_models()
        if problem:
            self.status.setText(problem)

    def _ask_download(self) -> None:
        repo, ok = QInputDialog.getText(self, "Download a model",
                                        "Hugging Face repo id (diffusers format), e.g. "
                                        "stabilityai/sdxl-turbo:")
        if ok and repo.strip():
            self.download(repo.strip())

    def download(self, repo_id: str) -> JobHandle:
        from artstudio.model_files.hub import download_model

        self.status.setText(f"Downloading {repo_id}… (progress in the Jobs panel)")
        return self.runner.run(
            download_model, repo_id, title=f"Download {repo_id}", kind=JobKind.FILE,
            lane=Lane.POOL, on_done=lambda folder: self._downloaded(repo_id, folder),
            on_failed=self.status.setText)

    def _downloaded(self, repo_id: str, folder) -> None:
        self.status.setText(f"{repo_id} downloaded")
        self.refresh_models()

    # ---- settings in and out ---------------------------------------------
    def _model_changed(self) -> None:
        """What the chosen model's family allows and starts from: Edit where
        its variant has it, the negative prompt where it applies, and its
        steps, guidance and sampler when they differ from the last family's."""
        from artstudio.diffusion import families

        info = self.model.currentData()
        self._find_parts(info)
        found = info is not None and families.likely_variant(
            info.kind, info.prediction, self.settings.model_variants.get(info.short_hash))
        if not found:
            return
        spec, variant = found
        edit_at = self.mode.findData(MODE_EDIT)
        if families.EDIT in variant.modes and edit_at < 0:
            self.mode.addItem(EDIT_LABEL, MODE_EDIT)
        elif families.EDIT not in variant.modes and edit_at >= 0:
            if self.mode.currentIndex() == edit_at:
                self.mode.setCurrentIndex(self.mode.findData(MODE_IMG2IMG))
            self.mode.removeItem(edit_at)
        self._limit_modes(variant)
        self.assists.family_changed(spec)
        self.guide_note.set_family(spec.name, spec.label)
        self.negative.setEnabled(spec.negative_prompt)
        self.lora_list.set_family(spec.name)
        self.negative.setToolTip("" if spec.negative_prompt else
                                 NO_NEGATIVE_TIP.format(family=spec.label))
        self.cfg.setToolTip("The guidance the model takes in (it runs no CFG)"
                            if spec.guidance == "distilled" else "")
        wanted = {k: v for k, v in spec.defaults(variant).items()
                  if k in ("steps", "cfg_scale", "scheduler")}
        if wanted != self._family_defaults:
            self._family_defaults = wanted
            self.apply_settings(wanted)

    def _find_parts(self, info) -> None:
        """A split model's parts, assembled off the GUI thread (it reads the
        headers of the files in the sibling folders)."""
        split = info is not None and info.format == "split"
        self._form.setRowVisible(self.parts, split)
        if not split:
            self.parts.clear()
            return
        if self.parts.model_path == info.path:
            return
        from artstudio.model_files.component_sets import assemble

        self.parts.show_problem(info.path, "Looking for its parts…")
        self.runner.run(lambda path, _progress, _cancel: assemble(path), info.path,
                        title="Find the model's parts",
                        kind=JobKind.INTERNAL, lane=Lane.POOL,
                        on_done=lambda found: self._parts_found(info.path, found),
                        on_failed=lambda message: self.parts.show_problem(info.path, message))

    def _parts_found(self, path, found) -> None:
        current = self.model.currentData()
        if current is not None and current.path == path:  # not another model by now
            self.parts.show_set(found)

    def _mode_enabled(self, mode: str) -> bool:
        index = self.mode.findData(mode)
        return index >= 0 and self.mode.model().item(index).isEnabled()

    def _limit_modes(self, variant) -> None:
        """Grey the modes the chosen model cannot run, its reason as their
        tooltip, and move off one: to Edit from image to image where the
        model edits instead (Kontext), else to the first mode it can run."""
        items = self.mode.model()
        for i in range(self.mode.count()):
            mode = self.mode.itemData(i)
            if mode in (MODE_ERASE, MODE_EDIT):  # Erase needs no model; Edit is added by need
                continue
            can = mode in variant.modes
            items.item(i).setEnabled(can)
            tip = "" if can else variant.only_note or f"{variant.label} cannot do this."
            self.mode.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        current = self.mode.currentData()
        if self._mode_enabled(current):
            return
        wanted = MODE_EDIT if current == MODE_IMG2IMG and self._mode_enabled(MODE_EDIT) else \
            next(self.mode.itemData(i) for i in range(self.mode.count())
                 if items.item(i).isEnabled())
        self.mode.setCurrentIndex(self.mode.findData(wanted))

    def _mode_changed(self) -> None:
        mode = self.mode.currentData()
        rows = {
            self.strength: mode in (MODE_IMG2IMG, MODE_INPAINT),
            self.mask_blur: mode in (MODE_INPAINT, MODE_OUTPAINT),
            self.padding: mode == MODE_INPAINT,
            self.only_masked: mode == MODE_INPAINT,
            self.erase_method: mode == MODE_ERASE,
            self.outpaint_widget: mode == MODE_OUTPAINT,
        }
        for widget, visible in rows.items():
            self._form.setRowVisible(widget, visible)
        model_rows = mode != MODE_ERASE
        for widget in (self.prompt, self.negative, self.preset, self.steps, self.cfg,
                       self.sampler, self.count):
            self._form.setRowVisible(widget, model_rows)

    def _size_enabled(self, matched: bool) -> None:
        self.width_box.setEnabled(not matched)
        self.height_box.setEnabled(not matched)
        self._show_frame_size()

    def _preset_chosen(self) -> None:
        name = self.preset.currentData()
        if name:
            self.apply_settings(PRESETS[name])
        self.preset.setCurrentIndex(0)

    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Restore settings (a preset, a history entry, a dropped PNG's metadata)."""
        if "prompt" in settings:
            self.prompt.setPlainText(str(settings["prompt"]))
        if "negative_prompt" in settings:
            self.negative.setPlainText(str(settings["negative_prompt"]))
        if "steps" in settings:
            self.steps.setValue(int(settings["steps"]))
        if "cfg_scale" in settings:
            self.cfg.setValue(float(settings["cfg_scale"]))
        if "scheduler" in settings:
            index = self.sampler.findData(settings["scheduler"])
            if index >= 0:
                self.sampler.setCurrentIndex(index)
        if settings.get("seed") is not None:
            self.seed.setValue(min(MAX_SEED, max(0, int(settings["seed"]))))
        combos = ((self.mode, "mode"), (self.seed_mode, "seed_mode"))
        for combo, key in combos:
            index = combo.findData(settings.get(key))
            if index >= 0 and combo.model().item(index).isEnabled():
                combo.setCurrentIndex(index)
        for box, key in ((self.count, "count"), (self.mask_blur, "mask_blur"),
                         (self.padding, "mask_padding")):
            if settings.get(key) is not None:
                box.setValue(int(settings[key]))
        if settings.get("only_masked") is not None:
            self.only_masked.setChecked(bool(settings["only_masked"]))
        if isinstance(settings.get("outpaint"), list | tuple) and len(settings["outpaint"]) == 4:
            for box, value in zip(self.outpaint_boxes, settings["outpaint"], strict=True):
                box.setValue(int(value))
        if "strength" in settings:
            self.strength.setValue(float(settings["strength"]))
        self.assists.apply_settings(settings)
        if "width" in settings and "height" in settings:
            self.match_frame.setChecked(False)
            self.width_box.setValue(int(settings["width"]))
            self.height_box.setValue(int(settings["height"]))
        wanted = settings.get("model_name") or settings.get("model")
        if wanted:
            name = Path(str(wanted)).stem
            for i in range(self.model.count()):
                if self.model.itemData(i).name == name:
                    self.model.setCurrentIndex(i)

    def settings_from_png(self, path: Path) -> bool:
        from artstudio.diffusion.metadata import read_settings

        try:
            settings = read_settings(path)
        except OSError as exc:
            self.status.setText(f"Could not read {path.name}: {exc.strerror or exc}")
            return False
        if not settings:
            self.status.setText(f"{path.name} carries no generation settings")
            return False
        from artstudio.diffusion.lora_restore import restore

        settings, missing = restore(settings)  # LoRAs and embeddings: found here, or named
        self.apply_settings(settings)
        missing_text = f". Not restored: {'; '.join(missing)}" if missing else ""
        self.status.setText(f"Settings restored from {path.name}{missing_text}")
        return True

    def dragEnterEvent(self, event) -> None:
        if any(u.toLocalFile().lower().endswith(".png") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().lower().endswith(".png"):
                self.settings_from_png(Path(url.toLocalFile()))
                event.acceptProposedAction()
                return

    # ---- generating --------------------------------------------------------
    def _variant_for(self, info) -> str | None:
        if not info.needs_variant_choice:
            return None
        known = self.settings.model_variants
        if info.short_hash in known:
            return known[info.short_hash]
        from artstudio.diffusion import families

        spec = families.family_of_kind(info.kind)
        choices = [f"{v.name}: {v.label}" for v in spec.variants_of(info.kind)]
        choice, ok = QInputDialog.getItem(
            self, f"Which {spec.label}?",
            f"{info.name} does not say which {spec.label} model it is. Choose once; "
            "Artstudio remembers it.", choices, 0, False)
        if not ok:
            return ""
        known[info.short_hash] = choice.split(":")[0]
        save_settings(self.settings)
        return known[info.short_hash]

    def _frame(self) -> Rect:
        return self.doc.frame.intersect(self.doc.rect)

    def build_request(self) -> tuple[Any, ResultTarget]:
        """Snapshot everything the job needs: its parameters and where its
        results go. RequestRefused says why it cannot start."""
        from artstudio.erase import EraseParams

        doc = self.doc
        if doc is None:
            raise RequestRefused("Open or create a document first")
        mode = self.mode.currentData()
        frame = self._frame()
        if frame.empty:
            raise RequestRefused("The generation frame is outside the canvas")
        mask = doc.mask[frame.slices()].copy()
        if mode in (MODE_INPAINT, MODE_ERASE) and not mask.any():
            raise RequestRefused(
                "The mask is empty: paint the area to change with the Mask tool (M)")
        picture = guide_free_picture(doc, frame)
        origin = DocumentMark.of(doc)
        if mode == MODE_ERASE:
            params = EraseParams(image=rgba_over_white(picture), mask=Image.fromarray(mask, "L"),
                                 method=self.erase_method.currentData())
            return params, ResultTarget(mode, frame, origin,
                                        made_from=contributing_uids(doc, frame))
        shared = self.model_params()
        if mode == MODE_TXT2IMG and not self.prompt.toPlainText().strip():
            raise RequestRefused("Text to image needs a prompt")
        if mode == MODE_EDIT and not self.prompt.toPlainText().strip():
            raise RequestRefused("Edit needs an instruction in the prompt (\"make it night\")")
        width, height = ((frame.w, frame.h) if self.match_frame.isChecked()
                         else (self.width_box.value(), self.height_box.value()))
        init = outpaint = None
        if mode == MODE_OUTPAINT:
            outpaint = tuple(b.value() for b in self.outpaint_boxes)
            if not any(outpaint):
                raise RequestRefused("Choose how many pixels to add on at least one side")
            frame = doc.rect
            picture = guide_free_picture(doc, frame)
            width, height = doc.width, doc.height
        if mode in (MODE_IMG2IMG, MODE_INPAINT, MODE_OUTPAINT, MODE_EDIT):
            init = rgba_over_white(picture)
        params = replace(
            shared, prompt=self.prompt.toPlainText().strip(),
            seed=None if self.seed.value() < 0 else int(self.seed.value()),
            seed_mode=self.seed_mode.currentData(), width=width, height=height,
            count=self.count.value(), init_image=init, strength=self.strength.value(),
            mask=Image.fromarray(mask, "L") if mode == MODE_INPAINT else None,
            mask_blur=self.mask_blur.value(), mask_padding=self.padding.value(),
            only_masked=self.only_masked.isChecked(), outpaint=outpaint,
            edit=mode == MODE_EDIT, **self.guide_note.request_fields(doc, frame),
            **self.assists.request_fields(self.prompt.toPlainText().strip()),
        )
        made_from = () if mode == MODE_TXT2IMG else contributing_uids(doc, frame)
        return params, ResultTarget(mode, frame, origin, outpaint, made_from,
                                    fill_frame=self.match_frame.isChecked())

    def model_params(self) -> GenerationParams:
        """What every generation from these settings shares: the model and its
        variant, negative prompt, steps, CFG, sampler, the size the size fields
        show, the device. RequestRefused says why there is none yet."""
        info = self.model.currentData()
        if info is None:
            raise RequestRefused("Choose a model first (Rescan looks in the model folders again)")
        variant = self._variant_for(info)
        if variant == "":
            raise RequestRefused("Generation needs the model's variant: choose one")
        s = self.settings
        parts = self.parts.model_path == info.path
        return GenerationParams(
            model=str(info.path), negative_prompt=self.negative.toPlainText().strip(),
            text_encoders=self.parts.text_encoders() if parts else (),
            vae=self.parts.vae() if parts else None,
            steps=self.steps.value(), cfg_scale=self.cfg.value(),
            width=self.width_box.value(), height=self.height_box.value(),
            scheduler=self.sampler.currentData(), variant=variant, device=s.device,
            precision=s.precision, cpu_offload=s.cpu_offload,
            preview_decoder=self._preview_decoder(info))

    def _preview_decoder(self, info) -> str | None:
        folder = self.taesd.get(info.family)
        return str(folder) if folder else None

    def generate(self) -> JobHandle | None:
        try:
            params, target = self.build_request()
        except RequestRefused as refusal:
            self.status.setText(str(refusal))
            return None
        from artstudio.diffusion import generate as diffusion
        from artstudio.erase import erase_run

        erase = target.mode == MODE_ERASE
        run = erase_run if erase else diffusion.run
        label = EDIT_LABEL if target.mode == MODE_EDIT else MODE_LABELS[target.mode]
        title = label + ("" if erase else f": {params.prompt[:30]}")
        # Each job keeps its own target: several can be queued, each for its frame.
        self._job = self.runner.run(run, params, title=title, kind=JobKind.GENERATE,
                                    lane=Lane.POOL if erase else Lane.ACCELERATOR,
                                    on_done=lambda result: self._finished(result, params,
                                                                          target),
                                    on_failed=self._failed)
        self._jobs[self._job.id] = self._job
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText(waiting_text(self.runner.engine.jobs_ahead(self._job.id)))
        return self._job

    def cancel(self) -> None:
        for handle in list(self._jobs.values()):
            handle.cancel()

    def _job_changed(self, event: JobEvent) -> None:
        if self._job is not None and self._job.state is JobState.QUEUED:  # one ahead may end
            self.status.setText(waiting_text(self.runner.engine.jobs_ahead(self._job.id)))
        if event.job_id not in self._jobs:
            return
        if event.state.finished:
            self._jobs.pop(event.job_id)
            self.cancel_button.setEnabled(bool(self._jobs))
        if self._job is None or event.job_id != self._job.id:
            return
        if event.state is JobState.RUNNING and event.progress is not None:
            p = event.progress
            if p.total > 0:
                self.progress.setRange(0, p.total)
                self.progress.setValue(p.step)
            eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds else ""
            self.status.setText(f"{p.message or 'Working'} {p.step}/{p.total}{eta}")
            if p.preview is not None:
                self.preview.setPixmap(pil_to_pixmap(p.preview, 192))
        elif event.state.finished:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if event.state is JobState.DONE else 0)
            if event.state is JobState.CANCELLED:
                self.status.setText("Cancelled")
            if event.state is not JobState.DONE:
                self.preview.clear()  # a half-made picture is no result
            self._job = None

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _finished(self, result, params, target: ResultTarget) -> None:
        self.preview.clear()
        if target.mode == MODE_ERASE:
            self.results.add(erased_candidate(result, params.method, target, params.mask))
            self.status.setText("Erased: apply the result from the tray")
            return
        candidates = generated_candidates(result, target)
        for candidate in candidates:
            self.results.add(candidate)
        self.history.add(HistoryEntry.of_generation(params, [c.seed for c in candidates],
                                                    target.frame))
        self._fill_history()
        self.assists.rank(candidates, params.prompt)
        notes = " ".join(result.notes)
        self.status.setText(f"{len(result.images)} result(s) in the tray. {notes}".strip())

    # ---- the staging tray: a view of self.results ----------------------------
    def _result_added(self, index: int, candidate: Candidate) -> None:
        item = QListWidgetItem(QIcon(pil_to_pixmap(candidate.image, THUMB)), candidate.label)
        item.setToolTip(candidate.description)
        self.tray.insertItem(index, item)
        self.tabs.setCurrentIndex(0)

    def _result_removed(self, index: int) -> None:
        # The tray chooses the next selection itself; the list must not choose first.
        with QSignalBlocker(self.tray):
            self.tray.takeItem(index)

    def apply_selected(self):
        """The chosen result becomes a new layer (diffusion.results.apply_candidate
        says where); the layer, or None."""
        if self.doc is None:
            return None
        try:
            applied = self.results.apply(self.doc)
        except RequestRefused as refusal:
            self.status.setText(str(refusal))
            return None
        if applied is None:
            return None
        layer = applied.layer
        self._hide_preview()  # the layer shows it now
        self.generation_applied.emit(layer)
        text = f"Applied as layer “{layer.name}”" + (f". {applied.note}" if applied.note else "")
        self.status.setText(text)
        self.note.emit(text)
        return layer

    def discard_selected(self) -> None:
        self.results.discard()

    # ---- the selected result on the canvas -----------------------------------
    def attach_preview(self, preview: CanvasPreview) -> None:
        """Show the selected tray result in `preview` (the canvas's)."""
        self.canvas_preview = preview

    def preview_selected(self) -> None:
        """The selected result over the layers at its frame, as a preview the
        document does not hold (Apply makes it a layer)."""
        preview, candidate = self.canvas_preview, self.results.current
        if preview is None:
            return
        if candidate is None or self.doc is None:
            preview.release(self)
            return
        if candidate.mode != MODE_TXT2IMG and not candidate.target.origin.is_open(self.doc):
            preview.release(self)  # it would show over pixels it was not made from
            self.status.setText(OTHER_DOCUMENT)
            return
        number, count = self.results.selected + 1, len(self.results)
        preview.show(candidate.image, candidate_rect(self.doc, candidate), owner=self,
                     caption=f"Result {number} of {count} ({candidate.label})",
                     actions={"previous": lambda: self.results.step(-1),
                              "next": lambda: self.results.step(1),
                              "apply": self.apply_selected, "discard": self.discard_selected})

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.tray and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Escape
                and self.canvas_preview is not None and self.canvas_preview.owned_by(self)):
            self.canvas_preview.hide()
            return True
        return super().eventFilter(watched, event)

    def _hide_preview(self) -> None:
        if self.canvas_preview is not None:
            self.canvas_preview.release(self)

    def rerun_selected(self) -> None:
        candidate = self.results.current
        if candidate is not None and candidate.seed is not None:
            self.seed.setValue(candidate.seed)
            self.seed_mode.setCurrentIndex(self.seed_mode.findData("fixed"))  # a SEED_MODES name
            self.status.setText("Seed set: tweak the prompt or settings and Generate")

    def save_selected(self) -> None:
        candidate = self.results.current
        if candidate is None:
            return
        folder = start_folder(self.settings, "results")
        name, _ = QFileDialog.getSaveFileName(
            self, "Save result", str(folder / f"{candidate.seed or 'result'}.png"), "PNG (*.png)")
        if name:
            remember_folder(self.settings, "results", Path(name))
            self.save_candidate(candidate, Path(name))

    def save_candidate(self, candidate: Candidate, path: Path) -> None:
        from artstudio.diffusion.metadata import save_png

        try:
            save_png(candidate.image, path, candidate.params)
            self.status.setText(f"Saved {path.name} with its parameters")
        except OSError as exc:
            self.status.setText(f"Could not save {path.name}: {exc.strerror or exc}")

    # ---- history ---------------------------------------------------------
    def _fill_history(self) -> None:
        self.history_list.clear()
        for entry in self.history.search(self.history_filter.text())[:300]:
            item = QListWidgetItem(entry.label)
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip(str(entry.settings.get("prompt", "")))
            self.history_list.addItem(item)

    def _history_chosen(self, item: QListWidgetItem) -> None:
        self.restore_entry(item.data(Qt.ItemDataRole.UserRole))

    def restore_entry(self, entry: HistoryEntry) -> list[str]:
        """Every parameter that made the entry's images, so Generate makes
        them again; says (and returns) what could not be restored."""
        doc = self.doc
        plan = restore_plan(entry, doc.rect if doc else None, self._frame() if doc else None,
                            [info.path for info in self.models])
        settings = {k: v for k, v in plan.settings.items() if k not in ("model", "model_name")}
        self.apply_settings(settings)
        if plan.model is not None:
            for i in range(self.model.count()):
                if str(self.model.itemData(i).path) == plan.model:
                    self.model.setCurrentIndex(i)
        if plan.frame is not None:
            doc.set_frame(plan.frame, "Frame from the history")
        self.match_frame.setChecked(plan.match_frame)
        missing = list(plan.not_restored)
        started_from = {"mask_digest", "picture_digest"} & set(entry.settings)
        if doc is not None and started_from:
            # What a generation would take now, exactly as build_request takes it.
            frame = doc.rect if entry.settings.get("mode") == MODE_OUTPAINT else self._frame()
            missing += changed_inputs(entry, doc.mask[frame.slices()],
                                      rgba_over_white(guide_free_picture(doc, frame)))
        elif started_from:
            missing += changed_inputs(entry)
        message = "Settings restored from the history"
        if missing:
            message += ". Not restored: " + "; ".join(missing)
        self.status.setText(message)
        self.note.emit(message)
        return missing
