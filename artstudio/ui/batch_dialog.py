"""The folder batch dialogs: style (or upscale) a whole folder through the
engine. `FolderBatchDialog` is the part about folders, progress and the
summary; a subclass supplies the chooser widget and the per-image function
(`StyleBatchDialog` here, `UpscaleBatchDialog` in upscale_dialog.py).

The dialog only gathers choices and shows progress. The batch runs as an
engine job through the app's JobRunner (planning included, so a huge folder
is walked off the GUI thread); its events reach the dialog as queued
signals of the runner's bridge, so no widget is ever touched from a worker.

When the output folder holds outputs that other settings made, the job
comes back with the batch core's ResumeCheck instead of running, and the
dialog shows what differs and asks: a new subfolder, overwrite them, or keep
them and do the rest. Deciding what differs and naming the subfolder are the
core's (`artstudio.batch.resume`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from artstudio.batch import BadBatchLocation, BatchReport, BatchSettings, FolderJob, fast_png
from artstudio.batch.naming import check_locations
from artstudio.batch.pipeline import run_folder_job
from artstudio.batch.ray_runner import model_files
from artstudio.batch.recipe import recipe_of
from artstudio.batch.resume import OtherSettings, ResumeCheck, fresh_subfolder
from artstudio.engine import JobEvent, JobHandle, JobKind, Lane
from artstudio.engine.printable import printable
from artstudio.settings import Settings, save_settings
from artstudio.style.transfer import StyleOptions, lane_for, style_processor
from artstudio.ui.job_runner import JobRunner
from artstudio.ui.style_chooser import StyleChooser

REPORT_NAME = "batch-report.json"


def _escape(text: str) -> str:
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _png_level_combo(saved: str) -> QComboBox:
    """zlib levels 0-9 (3 the default: near level 6's size for half its
    time) and, with the fpng package installed, "fast"; the pixels are the
    same whichever is chosen, only file size and time change."""
    combo = QComboBox()
    names = {"0": "0 (no compression)", "3": "3 (default)", "9": "9 (smallest, slowest)"}
    for level in map(str, range(10)):
        combo.addItem(names.get(level, level), level)
    if fast_png.available():
        combo.addItem("fast (far less time, files about 10 % larger)", fast_png.FAST)
    combo.setToolTip("How hard PNG files are compressed: higher is smaller and slower")
    index = combo.findData(saved)
    combo.setCurrentIndex(index if index >= 0 else combo.findData("3"))
    return combo


def _path_row(edit: QLineEdit, browse) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    layout.addWidget(button)
    return row


class FolderBatchDialog(QDialog):
    """Choose folders and what to do, Start, watch n/N and the ETA, Cancel,
    and read the summary with every failure listed at the end."""

    # the BatchReport; None when the job failed; the ResumeCheck when it asks
    batch_finished = Signal(object)
    window_title = "Process a folder"
    verb = "Process"
    kind = "batch"  # the recipe's kind: "style", "upscale"
    cancel_note = "Cancelling after the current image…"

    def __init__(self, runner: JobRunner, parent: QWidget | None = None,
                 ray_address: str = "", settings: Settings | None = None):
        super().__init__(parent)
        self.ray_address = ray_address  # Settings' cluster; "" offers none
        self.settings = settings  # the PNG level is kept there between batches
        self.setWindowTitle(self.window_title)
        self.resize(520, 720)
        self.runner = runner
        runner.bridge.job_changed.connect(self._on_job_event)
        self._handle: JobHandle | None = None
        self.report: BatchReport | None = None
        self.pending_check: ResumeCheck | None = None  # other settings found; asking
        self._build()
        self._set_running(False)

    # ---- layout -------------------------------------------------------------
    def _build(self) -> None:
        self.input_edit = QLineEdit()
        self.output_edit = QLineEdit()
        self.recursive_check = QCheckBox("Include subfolders")
        self.chooser = self._make_chooser()
        self.format_combo = QComboBox()
        self.format_combo.addItems(["png", "jpg", "webp"])
        self.png_level_combo = _png_level_combo(
            self.settings.batch_png_level if self.settings else "3")
        self.format_combo.currentTextChanged.connect(
            lambda fmt: self.png_level_combo.setEnabled(fmt == "png"))
        self.overwrite_check = QCheckBox("Redo images already in the output folder")
        self.ray_check = QCheckBox(f"Run on the Ray cluster ({printable(self.ray_address)})")
        self.ray_check.setToolTip("Both folders must be on storage every node of the "
                                  "cluster mounts at the same path")

        form = QFormLayout()
        form.addRow("Input folder", _path_row(self.input_edit, self._browse_input))
        form.addRow("", self.recursive_check)
        form.addRow("Output folder", _path_row(self.output_edit, self._browse_output))
        form.addRow(self.chooser)
        form.addRow("Format", self.format_combo)
        form.addRow("PNG compression", self.png_level_combo)
        form.addRow("", self.overwrite_check)
        if self.ray_address:
            form.addRow("", self.ray_check)

        self.progress_bar = QProgressBar()
        self.status_label = QLabel("")
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.failures_list = QListWidget()
        self.failures_list.setVisible(False)
        self._build_conflict_box()
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.conflict_box)
        layout.addWidget(self.failures_list, 1)
        layout.addLayout(buttons)

    def _build_conflict_box(self) -> None:
        self.conflict_box = QFrame()
        self.conflict_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.conflict_label = QLabel("")
        self.conflict_label.setWordWrap(True)
        self.subfolder_button = QPushButton("New subfolder")
        self.overwrite_button = QPushButton("Overwrite them")
        self.keep_button = QPushButton("Keep them, do the rest")
        self.subfolder_button.setToolTip("Write this batch into a new folder inside the "
                                         "output folder; nothing there is touched")
        self.overwrite_button.setToolTip("Redo every image with the new settings")
        self.keep_button.setToolTip("Keep the images made before and make only the missing "
                                    "ones with the new settings")
        self.subfolder_button.clicked.connect(self.use_subfolder)
        self.overwrite_button.clicked.connect(
            lambda: self._start(OtherSettings.OVERWRITE))
        self.keep_button.clicked.connect(lambda: self._start(OtherSettings.KEEP))
        row = QHBoxLayout()
        for b in (self.subfolder_button, self.overwrite_button, self.keep_button):
            row.addWidget(b)
        box = QVBoxLayout(self.conflict_box)
        box.addWidget(self.conflict_label)
        box.addLayout(row)
        self.conflict_box.setVisible(False)

    def _pick_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder", edit.text())
        if folder:
            edit.setText(folder)

    def _browse_input(self) -> None:
        self._pick_folder(self.input_edit)

    def _browse_output(self) -> None:
        self._pick_folder(self.output_edit)

    # ---- what a subclass supplies --------------------------------------------
    def _make_chooser(self) -> QWidget:
        raise NotImplementedError

    def options(self):
        """The options the chooser describes (ValueError when incomplete)."""
        return self.chooser.options()

    def _make_processor_factory(self, options):
        """A callable(cancel) -> per-image function; it runs on the worker, so
        loading the model happens off the GUI thread."""
        raise NotImplementedError

    def _lane(self, options) -> Lane:
        return Lane.POOL

    def _describe(self, options) -> str:
        """A few words for what the batch makes (names a new subfolder)."""
        return self.verb.lower()

    # ---- choices -> job -----------------------------------------------------
    def start(self) -> None:
        """Check the choices, then submit the batch as one engine job."""
        self._start(OtherSettings.OVERWRITE if self.overwrite_check.isChecked()
                    else OtherSettings.REFUSE)

    def use_subfolder(self) -> None:
        """Answer to other settings: write into a fresh subfolder instead."""
        check = self.pending_check
        if check is None:
            return
        self.output_edit.setText(str(fresh_subfolder(check.output_root, check.recipe)))
        self._start(OtherSettings.REFUSE)

    def _start(self, other_settings: OtherSettings) -> None:
        src = Path(self.input_edit.text().strip())
        out = Path(self.output_edit.text().strip())
        try:
            if not self.input_edit.text().strip() or not src.is_dir():
                raise ValueError("Choose an input folder that exists.")
            if not self.output_edit.text().strip():
                raise ValueError("Choose an output folder.")
            check_locations(src, out)
            options = self.options()
        except (ValueError, BadBatchLocation) as exc:
            self.status_label.setText(str(exc))
            return
        fmt = self.format_combo.currentText()
        settings = BatchSettings(png_level=self.png_level())
        self._remember_png_level()
        on_ray = bool(self.ray_address) and self.ray_check.isChecked()
        job = FolderJob(
            input_path=src, output_path=out,
            make_processor=self._make_processor_factory(options),
            recursive=self.recursive_check.isChecked(),
            fmt=fmt, settings=settings, report_path=out / REPORT_NAME,
            recipe=recipe_of(self.kind, options, fmt, settings.quality,
                             self._describe(options)),
            other_settings=other_settings,
            ray_address=self.ray_address if on_ray else "",
            ray_files=tuple(model_files(options)) if on_ray else (),
        )
        lane = self._lane(options)
        self.report = None
        self.pending_check = None
        self.conflict_box.setVisible(False)
        self.summary_label.setText("")
        self.failures_list.clear()
        self.failures_list.setVisible(False)
        self.progress_bar.setRange(0, 0)
        self.status_label.setText("Starting…")
        self._set_running(True)
        self._handle = self.runner.run(run_folder_job, job, title=f"{self.verb} folder {src.name}",
                                       kind=JobKind.BATCH, lane=lane, on_done=self._finished,
                                       on_failed=self._failed, on_cancelled=self._finished)

    def png_level(self) -> int | str:
        """The chosen PNG compression, as BatchSettings takes it."""
        level = self.png_level_combo.currentData()
        return level if level == fast_png.FAST else int(level)

    def _remember_png_level(self) -> None:
        level = self.png_level_combo.currentData()
        if self.settings is not None and self.settings.batch_png_level != level:
            self.settings.batch_png_level = level
            save_settings(self.settings)

    def cancel(self) -> None:
        """Ask the batch to stop after the image in hand (that one is finished)."""
        if self._handle is not None and not self._handle.state.finished:
            self._handle.cancel()
            self.status_label.setText(self.cancel_note)
            self.cancel_button.setEnabled(False)

    @property
    def running(self) -> bool:
        return self._handle is not None and not self._handle.state.finished

    # ---- events from the engine (always on the GUI thread) ------------------
    def _on_job_event(self, event: JobEvent) -> None:
        if self._handle is None or event.job_id != self._handle.id or event.state.finished:
            return
        p = event.progress
        if p is not None:
            if p.total > 0:
                self.progress_bar.setRange(0, p.total)
                self.progress_bar.setValue(p.step)
            if p.message:
                self.status_label.setText(p.message)

    def _failed(self, message: str) -> None:
        self._handle = None
        self._set_running(False)
        self.report = None
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status_label.setText("The batch could not run.")
        self.summary_label.setText(message)
        self.batch_finished.emit(None)

    def _finished(self, report: BatchReport | ResumeCheck | None) -> None:
        """Done, or cancelled: the batch returns its report either way (None
        when it was cancelled before it started), or the ResumeCheck when
        other settings made outputs there and nothing was done yet."""
        self._handle = None
        self._set_running(False)
        if isinstance(report, ResumeCheck):
            self._ask_about(report)
            return
        self.report = report
        if report is None:
            self.status_label.setText("Cancelled before any image was started.")
        else:
            done, total = report.progress  # the number the Jobs panel shows too
            self.progress_bar.setRange(0, max(1, total))
            self.progress_bar.setValue(done)
            self.status_label.setText("Cancelled." if report.cancelled else "Finished.")
            summary = report.summary().splitlines()[0]
            if report.report_error:
                summary += f"\nThe report could not be written: {report.report_error}"
            self.summary_label.setText(summary)
            for path, reason in report.failed:
                self.failures_list.addItem(f"{printable(path.name)}: {printable(reason)}")
            self.failures_list.setVisible(bool(report.failed))
        self.batch_finished.emit(report)

    def _ask_about(self, check: ResumeCheck) -> None:
        """Show what differs and offer the three ways on."""
        self.pending_check = check
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status_label.setText("Nothing was done yet.")
        lines = "".join(f"<li>{_escape(line)}</li>" for line in check.differences)
        self.conflict_label.setText(
            f"<b>{len(check.other)} of the {check.existing} images already in the output "
            f"folder were made with other settings:</b><ul>{lines}</ul>"
            "Write this batch into a new subfolder, overwrite them, or keep them and do "
            "only the missing ones?")
        name = fresh_subfolder(check.output_root, check.recipe).name
        self.subfolder_button.setText(f"New subfolder “{name}”")
        self.conflict_box.setVisible(True)
        self.batch_finished.emit(check)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.input_edit, self.output_edit, self.chooser,
                  self.format_combo, self.overwrite_check, self.recursive_check, self.ray_check,
                  self.conflict_box):
            w.setEnabled(not running)

    def closeEvent(self, event) -> None:
        handle = self._handle
        self.cancel()
        if handle is not None:  # the batch stops on its own; nothing here shows its end
            self.runner.forget(handle)
        super().closeEvent(event)


class StyleBatchDialog(FolderBatchDialog):
    """Style a folder."""

    window_title = "Style a folder"
    verb = "Style"
    kind = "style"

    def _make_chooser(self) -> QWidget:
        return StyleChooser(default_max_size=0)

    def _make_processor_factory(self, options: StyleOptions):
        return functools.partial(style_processor, options)

    def _describe(self, options: StyleOptions) -> str:
        return options.describe()

    def _lane(self, options: StyleOptions) -> Lane:
        # GPU models share the single accelerator lane; ONNX CPU work uses the pool.
        return lane_for(options)
