"""Small things an artist met in the window (issue 11, items 4, 7, 8, 14, 15)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication


def shown(window):
    window.show()
    window.activateWindow()
    return window


# ---- item 4: Tab ------------------------------------------------------------
def test_tab_in_a_number_field_moves_focus_and_keeps_the_panels(studio, qtbot):
    window = shown(studio.window)
    qtbot.waitExposed(window)
    steps = window.generate_panel.steps
    steps.setFocus()
    qtbot.waitUntil(steps.hasFocus)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert window.generate_dock.isVisible() and window.layers_dock.isVisible()
    assert not steps.hasFocus()  # focus moved on, as Tab does everywhere


def test_tab_on_the_canvas_hides_panels_and_restores_the_same_tabs(studio, qtbot):
    window = shown(studio.window)
    qtbot.waitExposed(window)
    window.style_dock.raise_()  # the artist looks at Style, not Generate
    window.jobs_dock.raise_()
    window.layers_dock.close()  # and closed Layers
    qtbot.waitUntil(lambda: window.style_dock.visibleRegion().isEmpty() is False)
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Tab)
    assert not any(d.isVisible() for d in (window.generate_dock, window.style_dock,
                                           window.brush_dock, window.jobs_dock))
    qtbot.keyClick(window.canvas, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not window.style_dock.visibleRegion().isEmpty())
    assert window.generate_dock.visibleRegion().isEmpty()  # Style is still the front tab
    assert not window.jobs_dock.visibleRegion().isEmpty()
    assert window.brush_dock.visibleRegion().isEmpty()  # behind Jobs, still a tab
    assert window.brush_dock.toggleViewAction().isChecked()
    assert not window.layers_dock.isVisible()  # what was closed stays closed


# ---- item 7: the title follows the size -------------------------------------
def test_the_title_shows_the_new_size_after_an_upscale(studio, qtbot):
    from artstudio.document.create import new_document

    window = studio.window
    doc = new_document(64, 48)
    window.documents.set_document(doc)
    doc.resize_canvas(80, 60)  # modified now: the flag no longer changes
    assert "(80x60)" in window.windowTitle()
    doc.resize_image(160, 120)  # what Image > Upscale does to the document
    assert "(160x120)" in window.windowTitle()


# ---- item 7: a long status message ------------------------------------------
def test_a_long_two_line_status_message_does_not_grow_the_window(studio, qtbot):
    window = shown(studio.window)
    window.resize(900, 600)
    qtbot.waitExposed(window)
    QApplication.processEvents()
    size, bar_height = window.size(), window.statusBar().height()
    text = ("Generate failed: " + "the model needs far more memory than this machine has " * 6
            + "\nTry a smaller size or the CPU")
    window.show_note(text)
    for _ in range(5):
        QApplication.processEvents()
    assert window.size() == size
    assert window.statusBar().height() == bar_height
    assert window.status_message.toolTip() == text  # all of it, on hover


# ---- item 7: the result Save dialog remembers its folder --------------------
def test_saving_results_starts_in_the_folder_used_last(studio, qtbot, tmp_path, monkeypatch):
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    from artstudio.diffusion.results import Candidate, ResultTarget
    from artstudio.document import Rect
    from artstudio.document.create import new_document
    from artstudio.document.staleness import DocumentMark

    window = studio.window
    window.documents.set_document(new_document(16, 16))
    panel = window.generate_panel
    target = ResultTarget("txt2img", Rect(0, 0, 8, 8), DocumentMark.of(panel.doc))
    panel.results.add(Candidate(Image.new("RGB", (8, 8)), {"prompt": "sea"}, target, 7))
    renders = tmp_path / "renders"
    renders.mkdir()
    asked = []

    def save_dialog(parent, caption, start, filters):
        asked.append(Path(start).parent)
        return str(renders / Path(start).name), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    panel.save_selected()
    panel.save_selected()
    assert (renders / "7.png").is_file()
    assert asked[1] == renders.resolve()


# ---- item 7: the mask overlay looks like no paint ---------------------------
def test_the_mask_shows_as_stripes_unlike_any_red_paint(qtbot, show_canvas):
    import numpy as np

    from artstudio.document import Document

    doc = Document(120, 80)
    white = np.full((80, 120, 4), 255, np.uint8)
    doc.add_layer(white, name="Background")
    red = white.copy()
    red[..., 1:3] = 0
    doc.add_layer(red, name="Red paint", opacity=0.5, x=60)  # half-transparent red on the right
    mask = np.zeros((80, 120), np.uint8)
    mask[:, :60] = 255
    doc.set_mask(mask)
    view = show_canvas(doc, 240, 160)
    view.update()
    image = view.grab().toImage()
    masked = [image.pixelColor(x, 30) for x in range(10, 50)]
    painted = image.pixelColor(90, 30)
    colours = {(c.red(), c.green(), c.blue()) for c in masked}
    assert len(colours) >= 2  # stripes, not a flat tint
    for c in masked:  # never close to the red paint
        distance = abs(c.red() - painted.red()) + abs(c.green() - painted.green()) + \
            abs(c.blue() - painted.blue())
        assert distance > 150, (c.getRgb(), painted.getRgb())


# ---- item 7: Help has the shortcuts and the docs ----------------------------
def _help_action(window, text):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in help_menu.actions() if a.text().replace("&", "").startswith(text))


def test_the_shortcut_list_is_read_from_the_actions(studio, qtbot):
    from PySide6.QtGui import QKeySequence

    from artstudio.ui.shortcuts_dialog import ShortcutsDialog

    window = studio.window
    _help_action(window, "Keyboard Shortcuts").trigger()
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if isinstance(w, ShortcutsDialog) and w.isVisible())
    table = dialog.table
    listed = {(table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    native = QKeySequence.SequenceFormat.NativeText
    assert ("Undo", QKeySequence("Ctrl+Z").toString(native)) in listed
    assert ("Brush", "B") in listed  # the tool bar's keys too
    assert ("Hide Panels (on the canvas)", "Tab") in listed
    redo_keys = next(k for c, k in listed if c == "Redo")
    assert "Ctrl+Y" in redo_keys and "Ctrl+Shift+Z" in redo_keys
    dialog.close()
    window.undo_action.setShortcut(QKeySequence("Ctrl+Alt+Z"))  # change it where it is made
    fresh = ShortcutsDialog(window)
    keys = {fresh.table.item(r, 1).text(): fresh.table.item(r, 2).text()
            for r in range(fresh.table.rowCount())}
    assert keys["Undo"] == QKeySequence("Ctrl+Alt+Z").toString(native)
    fresh.deleteLater()


def test_help_opens_the_documentation_folder(studio, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    _help_action(studio.window, "Documentation").trigger()
    folder = Path(opened[0].toLocalFile())
    assert (folder / "document.md").is_file() and (folder / "generation.md").is_file()


# ---- item 14: settings say what they give ------------------------------------
def test_cuda_float16_without_a_gpu_is_explained_in_the_status_bar(studio, qtbot, monkeypatch):
    from artstudio.engine import devices

    monkeypatch.setattr(devices, "_cuda_available", lambda: False)
    window = studio.window
    window.settings.device, window.settings.precision = "cuda", "float16"
    window.probe_device()
    qtbot.waitUntil(lambda: window.device_choice is not None, timeout=20000)
    note = window.status_message.text()
    assert "Running on cpu (float32)" in note
    assert "CUDA was chosen in Settings but is not available" in note
    assert "float16 is not supported well on the CPU" in note
    assert "⚠" in window.device_label.text()


def test_the_settings_dialog_says_what_the_device_choice_gives(studio, monkeypatch):
    import torch  # noqa: F401  (the window's probe has imported it by the time Settings open)

    from artstudio.engine import devices
    from artstudio.ui.settings_dialog import SettingsDialog

    monkeypatch.setattr(devices, "_cuda_available", lambda: False)
    dialog = SettingsDialog(studio.settings, studio.window)
    dialog.device.setCurrentIndex(dialog.device.findData("cuda"))
    dialog.precision.setCurrentIndex(dialog.precision.findData("float16"))
    text = dialog.device_note.text()
    assert "cpu (float32)" in text and "not available" in text and text.startswith("⚠")
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.precision.setCurrentIndex(dialog.precision.findData("float32"))
    assert dialog.device_note.text() == "Running on cpu (float32): chosen in Settings"
    dialog.deleteLater()


def test_model_folders_without_models_are_flagged_and_non_folders_refused(
        studio, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from artstudio.ui.settings_dialog import SettingsDialog

    empty = tmp_path / "nothing-here"
    empty.mkdir()
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("x")
    models = tmp_path / "models"
    models.mkdir()
    (models / "v1.safetensors").write_bytes(b"\0" * 8)
    answers = [str(not_a_folder), str(empty), str(models)]
    warnings = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: answers.pop(0))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    dialog = SettingsDialog(studio.settings, studio.window)
    dialog._add_folder()
    assert "is not a folder" in warnings[0]
    assert dialog.folders.count() == 0
    dialog._add_folder()
    dialog._add_folder()
    assert [dialog.folders.item(i).text() for i in range(2)] == [str(empty), str(models)]
    assert "holds no model files" in dialog.folders.item(0).toolTip()
    assert dialog.folders.item(1).toolTip() == ""
    assert "holds no model files" in dialog.folder_note.text()
    dialog.deleteLater()


# ---- item 15: queued behind how many ------------------------------------------
def test_the_jobs_panel_says_how_many_jobs_a_queued_one_waits_behind(studio, qtbot):
    import threading

    from artstudio.engine import Lane

    window = studio.window
    gate, started = threading.Event(), threading.Event()

    def long(params, progress, cancel):
        started.set()
        gate.wait(10)

    try:
        window.runner.run(long, title="First", lane=Lane.ACCELERATOR)
        assert started.wait(10)
        second = window.runner.run(lambda p, progress, cancel: None, title="Second",
                                   lane=Lane.ACCELERATOR)
        third = window.runner.run(lambda p, progress, cancel: None, title="Third",
                                  lane=Lane.ACCELERATOR)
        qtbot.waitUntil(lambda: window.jobs_panel.row_state(third.id) == "queued behind 2 jobs",
                        timeout=5000)
        assert window.jobs_panel.row_state(second.id) == "queued behind 1 job"
    finally:
        gate.set()
    qtbot.waitUntil(lambda: window.jobs_panel.row_state(third.id) == "done", timeout=5000)


# ---- item 15: focus comes back to the canvas after a dialog --------------------
def _closed_dialog(window, qtbot):
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Information, "Note", "Done", parent=window)
    box.open()
    qtbot.waitUntil(box.isActiveWindow, timeout=5000)
    box.accept()
    window.activateWindow()  # what the window manager does (offscreen has none)
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    for _ in range(3):
        QApplication.processEvents()


def test_after_a_dialog_keys_go_to_the_canvas(studio, qtbot):
    window = shown(studio.window)
    qtbot.waitExposed(window)
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    button = window.jobs_panel.clear_button
    button.setFocus()  # the artist clicked a button
    qtbot.waitUntil(button.hasFocus)
    _closed_dialog(window, qtbot)
    assert window.canvas.hasFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # a canvas shortcut, at once
    assert not window.generate_dock.isVisible()


def test_after_a_dialog_a_field_being_typed_in_keeps_the_focus(studio, qtbot):
    window = shown(studio.window)
    qtbot.waitExposed(window)
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.generate_panel.steps.setFocus()
    qtbot.waitUntil(window.generate_panel.steps.hasFocus)
    _closed_dialog(window, qtbot)
    assert window.generate_panel.steps.hasFocus()


# ---- item 8: the first start ---------------------------------------------------
def test_a_start_with_no_file_opens_a_blank_canvas_of_the_default_size(studio, qtbot):
    from artstudio.document.create import DEFAULT_SIZE

    window = studio.window
    studio.open_files([])
    doc = window.doc
    assert doc is not None and (doc.width, doc.height) == DEFAULT_SIZE
    assert not doc.modified  # nothing to lose: quitting asks nothing
    assert window.generate_panel.generate_button.isEnabled()
    assert doc.composite()[..., :3].min() == 255  # white, ready to paint on


def test_an_image_dropped_on_the_untouched_start_canvas_opens_in_its_place(studio, qtbot,
                                                                            tmp_path):
    import numpy as np
    from PIL import Image

    picture = tmp_path / "cat.png"
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(picture)
    window = studio.window
    studio.open_files([])
    window.open_paths([picture])
    qtbot.waitUntil(lambda: window.doc.width == 60, timeout=10000)
    assert window.doc.height == 40
    window.doc.add_layer(name="Ink")  # a document in use: a drop adds a layer
    window.open_paths([picture])
    qtbot.waitUntil(lambda: len(window.doc.layers) == 3, timeout=10000)
    assert window.doc.width == 60


def test_with_no_model_the_generate_panel_says_where_and_offers_other_apps(
        studio, qtbot, tmp_path, monkeypatch, artstudio_home):
    from artstudio import paths
    from artstudio.settings import load_settings

    home = tmp_path / "home"
    checkpoints = home / "ComfyUI/models/checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "dream.safetensors").write_bytes(b"\0" * 32)  # found by name, not a model
    monkeypatch.setenv("HOME", str(home))
    panel = studio.window.generate_panel
    panel.set_models([])
    assert str(paths.user_models_dir()) in panel.status.text()
    qtbot.waitUntil(lambda: not panel.add_found_button.isHidden(), timeout=10000)
    assert "ComfyUI" in panel.add_found_button.text()
    assert str(checkpoints) in panel.add_found_button.toolTip()
    panel.add_found_button.click()
    assert panel.add_found_button.isHidden()
    assert str(checkpoints) in studio.settings.model_folders
    assert str(checkpoints) in load_settings()[0].model_folders
    panel.set_models([])  # still no model in it: the same folder is not offered again
    qtbot.waitUntil(lambda: not studio.engine.busy(), timeout=10000)
    QApplication.processEvents()
    assert panel.add_found_button.isHidden()
