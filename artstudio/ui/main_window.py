"""The main window: canvas area, dock panels, menus and status bar.

It is given what it works with (settings, engine, bridge, model cache) by
whoever owns them (ui/application.py) and knows nothing of its owner.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QTextEdit,
    QWidget,
)

from artstudio import APP_NAME, resources
from artstudio.document.create import DEFAULT_SIZE, new_document
from artstudio.document.staleness import DocumentMark
from artstudio.engine import Engine, JobEvent, JobKind, JobState, Lane
from artstudio.engine.model_cache import ModelCache
from artstudio.settings import Settings, save_settings, update_settings
from artstudio.ui.canvas_view import CanvasView
from artstudio.ui.dialogs import SizeDialog
from artstudio.ui.document_controller import DocumentController
from artstudio.ui.engine_bridge import EngineBridge
from artstudio.ui.generate_panel import GeneratePanel
from artstudio.ui.interpolation_panel import InterpolationPanel
from artstudio.ui.job_runner import JobRunner
from artstudio.ui.jobs_panel import JobsPanel
from artstudio.ui.layers_panel import LayersPanel
from artstudio.ui.live_view import LiveView
from artstudio.ui.style_panel import StylePanel
from artstudio.ui.tool_panel import BrushPanel, ToolBox

log = logging.getLogger(__name__)


def documentation_folder() -> Path | None:
    """The docs/ folder that comes with the app (the pages in docs/*.md)."""
    return resources.documentation_folder()


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, engine: Engine, bridge: EngineBridge,
                 model_cache: ModelCache, log_file: Path | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings  # the app's one Settings: changes are made in place
        self.engine = engine
        self.model_cache = model_cache
        self.log_file = log_file
        self.setWindowTitle(APP_NAME)
        self.setObjectName("MainWindow")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.runner = JobRunner(bridge, self)
        self.found_upscalers: list = []  # ModelInfo of upscalers, from the last scan
        self.device_choice = None  # the engine's DeviceChoice, once probed
        self._start_canvas = None  # DocumentMark of the blank canvas a start opened

        self.canvas = CanvasView()
        self.setCentralWidget(self.canvas)
        self.documents = DocumentController(settings, self.runner, self)
        self.documents.document_changed.connect(self._document_changed)
        self.documents.title_changed.connect(self._title_changed)
        self.documents.note.connect(self.show_note)
        self.documents.recent_changed.connect(self._fill_recent_menu)
        self.canvas.message.connect(self.show_note)

        self.toolbox = ToolBox(self.canvas, self)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.toolbox)
        self.layers_panel = LayersPanel()
        self.layers_panel.guide.runner = self.runner
        self.layers_dock = self._add_dock("Layers", self.layers_panel,
                                          Qt.DockWidgetArea.RightDockWidgetArea)
        self.brush_panel = BrushPanel(self.canvas)
        self.brush_dock = self._add_dock("Brush", self.brush_panel,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_panel = JobsPanel()
        self.jobs_dock = self._add_dock("Jobs", self.jobs_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.brush_dock, self.jobs_dock)
        self.generate_panel = GeneratePanel(settings, self.runner)
        self.generate_dock = self._add_dock("Generate", self.generate_panel,
                                            Qt.DockWidgetArea.LeftDockWidgetArea)
        self.generate_dock.setMinimumWidth(340)
        self.style_panel = StylePanel(settings, self.runner)
        self.style_dock = self._add_dock("Style", self.style_panel,
                                         Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.generate_dock, self.style_dock)
        self.interpolation_panel = InterpolationPanel(settings, self.runner, self.generate_panel)
        self.interpolation_dock = self._add_dock("Interpolate", self.interpolation_panel,
                                                 Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.style_dock, self.interpolation_dock)
        self.interpolation_panel.note.connect(self.show_note)
        for panel in (self.generate_panel, self.style_panel):
            panel.attach_preview(self.canvas.result_preview)
        self.live_view = LiveView(self.generate_panel.live)
        self.live_dock = self._add_dock("Live", self.live_view,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.live_view.attach_preview(self.canvas.result_preview)
        self.live_view.note.connect(self.show_note)
        self.generate_panel.live.went_live.connect(lambda on: on and self.live_dock.show())
        self.live_dock.hide()  # until Live is turned on
        self.generate_panel.note.connect(self.show_note)
        self.generate_dock.raise_()
        self.brush_dock.raise_()
        self.jobs_panel.cancel_requested.connect(engine.cancel)
        self.jobs_panel.clear_requested.connect(self._clear_finished_jobs)

        self.status_message = QLabel("Ready")
        # One line whatever the message: a wide or two-line note must not resize the window
        # (the whole text is in the tooltip).
        self.status_message.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        self.cursor_label = QLabel("")
        self.zoom_label = QLabel("")
        self.device_label = QLabel("Device: detecting…")
        self.device_label.setObjectName("deviceLabel")
        self.jobs_label = QLabel("")
        self.statusBar().addWidget(self.status_message, 1)
        for label in (self.cursor_label, self.zoom_label, self.jobs_label, self.device_label):
            self.statusBar().addPermanentWidget(label)
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.canvas.cursor_moved.connect(lambda x, y: self.cursor_label.setText(f"{x}, {y}"))

        bridge.job_changed.connect(self._on_job_changed)
        self._hidden_docks: list[QDockWidget] = []
        self._front_docks: list[QDockWidget] = []  # the tabs in front when they were hidden
        self._watched = None  # the document whose undo history the Edit menu follows
        self._build_menus()
        self._document_changed(None)

    # ---- construction ----------------------------------------------------
    def _add_dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, doc_only=True) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        if doc_only:
            self._doc_actions.append(action)
        return action

    def _build_menus(self) -> None:
        self._doc_actions: list[QAction] = []
        d = self.documents
        keys = QKeySequence.StandardKey
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New…", d.new, keys.New, doc_only=False)
        self._action(file_menu, "&Open…", d.open_dialog, keys.Open, doc_only=False)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._fill_recent_menu(self.settings.recent_files)
        file_menu.addSeparator()
        self._action(file_menu, "&Save", d.save, keys.Save)
        self._action(file_menu, "Save &As…", d.save_as, keys.SaveAs)
        self._action(file_menu, "&Export Image…", d.export_dialog, "Ctrl+Alt+Shift+W")
        file_menu.addSeparator()
        self._action(file_menu, "&Close", d.close_document, keys.Close)
        self._action(file_menu, "&Quit", self.close, keys.Quit, doc_only=False)

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action(edit_menu, "&Undo", self._undo, "Ctrl+Z")
        self.redo_action = self._action(edit_menu, "&Redo", self._redo, "Ctrl+Shift+Z")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit_menu.addSeparator()
        self._action(edit_menu, "&Paste as Layer", self.paste, keys.Paste, doc_only=False)
        edit_menu.addSeparator()
        self._action(edit_menu, "Clear &Mask", lambda: self.doc.clear_mask(), "Ctrl+Shift+M")
        self._action(edit_menu, "&Invert Mask", lambda: self.doc.invert_mask())
        self._action(edit_menu, "Reset &Frame to Canvas", lambda: self.doc.reset_frame())

        view_menu = bar.addMenu("&View")
        c = self.canvas
        self._action(view_menu, "Zoom &In", c.zoom_in, keys.ZoomIn)
        self._action(view_menu, "Zoom &Out", c.zoom_out, keys.ZoomOut)
        self._action(view_menu, "&Fit to Window", c.fit_to_window, "Ctrl+0")
        self._action(view_menu, "&Actual Pixels (100 %)", c.actual_size, "Ctrl+1")
        view_menu.addSeparator()
        for dock in (self.generate_dock, self.style_dock, self.interpolation_dock,
                     self.layers_dock, self.brush_dock, self.jobs_dock):
            view_menu.addAction(dock.toggleViewAction())
        self.toggle_panels_action = self._action(view_menu, "Hide &Panels", self.toggle_panels,
                                                 "Tab", doc_only=False)
        # Only on the canvas: in a field, Tab moves the focus as everywhere else.
        self.toggle_panels_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.canvas.addAction(self.toggle_panels_action)

        image_menu = bar.addMenu("&Image")
        self._action(image_menu, "&Canvas Size…", self._canvas_size)
        self._action(image_menu, "&Image Size…", self._image_size)
        self._action(image_menu, "C&rop to Frame", lambda: self.doc.crop_to_frame())
        self._action(image_menu, "&Upscale…", self._upscale, "Ctrl+Alt+U")
        self._action(image_menu, "Upscale a F&older…", self.open_upscale_batch, doc_only=False)
        self._action(image_menu, "&Flatten", self.layers_panel.flatten_layer)

        layer_menu = bar.addMenu("&Layer")
        p = self.layers_panel
        self._action(layer_menu, "&New Layer", p.add_layer, "Ctrl+Shift+N")
        self._action(layer_menu, "&Duplicate Layer", p.duplicate_layer, "Ctrl+J")
        self._action(layer_menu, "D&elete Layer", p.delete_layer)
        self._action(layer_menu, "&Merge Down", p.merge_layer, "Ctrl+E")

        brush_menu = bar.addMenu("&Brush")
        self._action(brush_menu, "&Smaller Brush", lambda: self._resize_brush(1 / 1.2), "[",
                     doc_only=False)
        self._action(brush_menu, "&Larger Brush", lambda: self._resize_brush(1.2), "]",
                     doc_only=False)

        tools_menu = bar.addMenu("&Tools")
        self._action(tools_menu, "&Settings…", self.open_settings, "Ctrl+,", doc_only=False)
        self._action(tools_menu, "&Unload All Models", self._unload_models, doc_only=False)
        tools_menu.addSeparator()
        self._action(tools_menu, "&Batch Style a Folder…", self.style_panel.open_batch,
                     doc_only=False)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Documentation", self.open_documentation, keys.HelpContents,
                     doc_only=False)
        self._action(help_menu, "&Keyboard Shortcuts…", self.show_shortcuts, "Ctrl+/",
                     doc_only=False)
        help_menu.addSeparator()
        self.self_test_action = self._action(help_menu, "Run &Self-Test", self.run_self_test,
                                             doc_only=False)
        self._action(help_menu, f"&About {APP_NAME}", self._about, doc_only=False)

    def _fill_recent_menu(self, recent: list) -> None:
        self.recent_menu.clear()
        for name in recent:
            action = self.recent_menu.addAction(name)
            action.triggered.connect(lambda _=False, n=name: self.documents.open(Path(n)))
        self.recent_menu.setEnabled(bool(recent))

    # ---- the document ----------------------------------------------------
    @property
    def doc(self):
        return self.documents.doc

    def _document_changed(self, doc) -> None:
        self.canvas.set_document(doc)
        self.layers_panel.set_document(doc)
        self.generate_panel.set_document(doc)
        self.style_panel.set_document(doc)
        self.interpolation_panel.set_document(doc)
        for action in self._doc_actions:
            action.setEnabled(doc is not None)
        if self._watched is not None:
            self._watched.events.history_changed.disconnect(self._history_changed)
        self._watched = doc
        if doc is not None:
            doc.events.history_changed.connect(self._history_changed)
        self._history_changed()

    def _history_changed(self) -> None:
        doc = self.doc
        self.undo_action.setEnabled(doc is not None and doc.can_undo)
        self.redo_action.setEnabled(doc is not None and doc.can_redo)
        self.undo_action.setText(f"&Undo {doc.undo_label}" if doc and doc.can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {doc.redo_label}" if doc and doc.can_redo else "&Redo")

    def _title_changed(self, title: str) -> None:
        self.setWindowTitle(f"{title} — {APP_NAME}" if title else APP_NAME)

    def _undo(self) -> None:
        if self.doc is not None:
            self.doc.undo()

    def _redo(self) -> None:
        if self.doc is not None:
            self.doc.redo()

    def _resize_brush(self, factor: float) -> None:
        self.canvas.change_brush_size(factor)
        self.brush_panel.show_settings(self.canvas.brush_settings)

    def paste(self) -> None:
        image = QGuiApplication.clipboard().image()
        if not self.documents.paste_image(image):
            self.show_note("The clipboard holds no image")

    def _canvas_size(self) -> None:
        dialog = SizeDialog("Canvas size", self.doc.width, self.doc.height, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.doc.resize_canvas(*dialog.size_chosen())

    def _upscale(self) -> None:
        from artstudio.ui.upscale_dialog import UpscaleDialog, upscale_document, upscale_region

        dialog = UpscaleDialog(self, device=self.settings.device)
        self._offer_upscalers(dialog.chooser)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            if dialog.target_key() == "image":
                upscale_document(self, self.doc, dialog.options())
            else:
                upscale_region(self, self.doc, dialog.target_key(), dialog.options())

    def _offer_upscalers(self, chooser) -> None:
        """Fill a chooser with the upscalers found last time, and look again
        on the pool (the list updates if the chooser is still open)."""
        from shiboken6 import isValid

        from artstudio.upscale.upscaling import find_upscalers

        chooser.set_found(self.found_upscalers)

        def found(infos) -> None:
            self.found_upscalers = infos
            if isValid(chooser):
                chooser.set_found(infos)

        self.runner.run(find_upscalers, list(self.settings.model_folders),
                        title="Find upscalers", kind=JobKind.INTERNAL, lane=Lane.POOL,
                        on_done=found, on_failed=lambda message: None)

    def open_upscale_batch(self):
        from artstudio.ui.upscale_dialog import UpscaleBatchDialog

        dialog = UpscaleBatchDialog(self.runner, self, device=self.settings.device,
                                    ray_address=self.settings.ray_address,
                                    settings=self.settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._offer_upscalers(dialog.chooser)
        dialog.show()
        return dialog

    def _image_size(self) -> None:
        dialog = SizeDialog("Image size", self.doc.width, self.doc.height, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.doc.resize_image(*dialog.size_chosen())

    # ---- focus -------------------------------------------------------------
    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            # Back from a dialog (or another app): keys go to the canvas, so its
            # shortcuts (Tab, Space, [ ]) work at once, unless the artist was typing.
            QTimer.singleShot(0, self, self._focus_canvas_unless_typing)

    def _focus_canvas_unless_typing(self) -> None:
        focus = QApplication.focusWidget()
        typing = isinstance(focus, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)) or (
            isinstance(focus, QComboBox) and focus.isEditable())
        if self.isActiveWindow() and not (typing and self.isAncestorOf(focus)):
            self.canvas.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # ---- drag and drop, closing --------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        files = [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]
        if files:
            self.open_paths(files)
        elif data.hasImage():
            self.documents.paste_image(data.imageData())
        event.acceptProposedAction()

    def open_blank_canvas(self) -> None:
        """A start with nothing to open shows a blank canvas of the default size
        to paint on at once, as Krita and Photoshop do; it is not "modified",
        and a file dropped on it while untouched opens in its place."""
        if self.doc is None:
            self.documents.set_document(new_document(*DEFAULT_SIZE))
            self._start_canvas = DocumentMark.of(self.doc)

    def _untouched_start_canvas(self) -> bool:
        mark = self._start_canvas
        return mark is not None and mark.is_open(self.doc) and mark.unchanged(self.doc)

    def open_paths(self, files: list[Path]) -> None:
        """Over an open document, images become new layers (as when compositing)
        and an .ora opens as the document; with none open (or only the untouched
        start canvas), the first file opens and the other images become its
        layers once it has opened."""
        files = list(files)
        documents = [f for f in files if f.suffix.lower() == ".ora"]
        if self.doc is None or documents or self._untouched_start_canvas():
            first = documents[0] if documents else files[0]
            rest = tuple(f for f in files if f != first and f.suffix.lower() != ".ora")
            self.documents.open(first, then_import=rest)
        else:
            for path in files:
                self.documents.import_as_layer(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.documents.close_document():
            event.accept()
        else:
            event.ignore()

    def shutdown(self) -> None:
        """The app is quitting and the engine has stopped: drop what the
        window holds, quietly (the artist was already asked about unsaved
        work), so no Qt object outlives the QApplication."""
        self.documents.forget_closed_autosaves()  # only now can no autosave still be written
        self.documents.autosave_timer.stop()
        self.canvas.set_document(None)
        self.layers_panel.set_document(None)
        self.hide()  # not close(): that would ask about unsaved work again
        self.deleteLater()

    # ---- status ----------------------------------------------------------
    def show_note(self, text: str, timeout_ms: int = 0) -> None:
        self.status_message.setText("  ·  ".join(line for line in text.splitlines() if line))
        self.status_message.setToolTip(text)
        if timeout_ms:
            self.statusBar().showMessage(text, timeout_ms)

    def _on_job_changed(self, event: JobEvent) -> None:
        self.jobs_panel.update_job(event)
        jobs = self.engine.jobs()
        running = sum(r.state is JobState.RUNNING for r in jobs)
        queued = sum(r.state is JobState.QUEUED for r in jobs)
        self.jobs_label.setText(f"{running} running, {queued} queued" if running or queued else "")
        self.jobs_panel.show_waiting({r.id: self.engine.jobs_ahead(r.id) for r in jobs
                                      if r.state is JobState.QUEUED})
        if event.state is JobState.FAILED:
            self.show_note(f"{event.title} failed: {event.error}")
        elif event.state is JobState.CANCELLED:
            self.show_note(f"{event.title} cancelled")

    def _clear_finished_jobs(self) -> None:
        finished = {r.id for r in self.engine.jobs() if r.state.finished}
        self.engine.clear_finished()
        self.jobs_panel.remove_finished(finished)

    # ---- actions ---------------------------------------------------------
    def look_for_device_and_models(self) -> None:
        """The first background work, once the window has painted: both import
        or read a lot (torch, model headers)."""
        self.probe_device()
        self.generate_panel.refresh_models()

    def probe_device(self) -> None:
        """Find the compute device on a worker: importing torch takes seconds."""
        from artstudio.engine.devices import probe_device

        s = self.settings
        self.runner.run(
            probe_device, (s.device, s.precision), title="Detect compute device",
            kind=JobKind.INTERNAL, lane=Lane.POOL, on_done=self._device_found,
            on_failed=lambda msg: self.device_label.setText("Device: CPU (torch unavailable)"),
        )

    def _device_found(self, choice) -> None:
        self.device_choice = choice
        self.device_label.setText(f"Device: {choice.describe()}{' ⚠' if choice.fell_back else ''}")
        self.device_label.setToolTip(choice.note())
        if choice.fell_back:  # Settings asked for what this computer cannot do: say so
            self.show_note(choice.note())

    def run_self_test(self) -> list:
        from artstudio.selftest.runner import CAPABILITIES, run_capability_job

        def report(name):
            return lambda detail: self.show_note(f"Self-test {name}: {detail}")

        return [
            self.runner.run(run_capability_job, (c.name, c.target), title=f"Self-test: {c.name}",
                            kind=JobKind.SELF_TEST, lane=Lane.POOL, on_done=report(c.name))
            for c in CAPABILITIES
        ]

    def open_settings(self) -> None:
        from artstudio.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog.result_settings())

    def apply_settings(self, settings) -> None:
        from artstudio.engine.devices import total_memory_bytes
        from artstudio.settings import model_cache_budget_bytes

        update_settings(self.settings, settings)
        self.documents.apply_settings()
        self.generate_panel.refresh_models()
        self.model_cache.set_budget(model_cache_budget_bytes(self.settings, total_memory_bytes()))
        problem = save_settings(self.settings)
        if problem:
            QMessageBox.warning(self, "Settings not saved",
                                f"{problem}\n\nThe new settings apply until you quit.")
        self.probe_device()

    def _unload_models(self) -> None:
        kept = self.model_cache.unload_all()
        self.show_note(f"Models unloaded; {kept} in use by a running job unload when it ends"
                       if kept else "All models unloaded", 3000)

    def toggle_panels(self) -> None:
        """Tab hides every panel for a clean canvas, and brings back exactly
        what was shown: the same panels, the same tab in front of each group."""
        if self._hidden_docks:
            fronts = [d for d in self._hidden_docks if d in self._front_docks]
            for dock in self._hidden_docks:
                dock.show()
            for dock in fronts:
                dock.raise_()
            self._hidden_docks = []
        else:
            docks = self.findChildren(QDockWidget)
            self._hidden_docks = [d for d in docks if not d.isHidden()]
            self._front_docks = [d for d in self._hidden_docks
                                 if not d.visibleRegion().isEmpty()]
            for dock in self._hidden_docks:
                dock.hide()

    def show_shortcuts(self):
        from artstudio.ui.shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_documentation(self) -> None:
        folder = documentation_folder()
        if folder is None:
            self.show_note("The documentation folder (docs/) is not installed beside the app")
        elif not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_note(f"Could not open {folder}: open it in a file manager")

    def _about(self) -> QDialog:
        from artstudio.ui.about_dialog import AboutDialog

        dialog = AboutDialog(self.log_file, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog
