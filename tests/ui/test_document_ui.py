"""Files, layers and never losing work, through the real window."""

from __future__ import annotations

import numpy as np
import pytest
from autosave_crash import crash
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from artstudio.document import list_recoverable, open_document
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.ui.dialogs import RecoveryDialog


def wait_jobs_idle(studio, qtbot, timeout=10000):
    qtbot.waitUntil(lambda: not studio.engine.busy(), timeout=timeout)
    QApplication.processEvents()


@pytest.fixture
def window(studio, qtbot):
    win = studio.window
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "photo.png"
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[..., 0] = 200
    Image.fromarray(pixels).save(path)
    return path


def test_open_image_on_worker_then_layers_panel_shows_it(window, studio, qtbot, picture):
    window.documents.open(picture)
    qtbot.waitUntil(lambda: window.doc is not None, timeout=10000)
    assert window.doc.size == (80, 60)
    assert window.layers_panel.list.count() == 1
    assert window.canvas.doc is window.doc
    assert "photo" in window.windowTitle()
    assert str(picture.resolve()) == studio.settings.recent_files[0]


def test_corrupt_file_leaves_open_document_untouched(window, studio, qtbot, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    doc = new_document(64, 64)
    window.documents.set_document(doc)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    window.documents.open(broken)
    qtbot.waitUntil(lambda: bool(warnings), timeout=10000)
    assert "broken.png" in warnings[0]
    assert window.doc is doc


def test_layers_panel_commands_and_undo(window, qtbot):
    window.documents.set_document(new_document(64, 64))
    doc, panel = window.doc, window.layers_panel
    assert [layer.name for layer in doc.layers] == ["Background", "Layer 1"]
    panel.add_layer()
    assert len(doc.layers) == 3 and panel.list.count() == 3
    assert panel.list.currentRow() == 0  # the new layer is on top and active
    panel.list.item(0).setText("Sky")
    assert doc.active_layer.name == "Sky"
    qtbot.waitUntil(lambda: panel.list.item(0).text() == "Sky")
    panel.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not doc.active_layer.visible
    panel.duplicate_layer()
    assert len(doc.layers) == 4
    panel.merge_layer()
    assert len(doc.layers) == 3
    window.undo_action.trigger()
    assert len(doc.layers) == 4
    window.redo_action.trigger()
    assert len(doc.layers) == 3
    panel.flatten_layer()
    assert len(doc.layers) == 1 and panel.list.count() == 1


def test_opacity_and_blend_from_panel(window, qtbot):
    window.documents.set_document(new_document(32, 32))
    panel = window.layers_panel
    panel.opacity.setValue(40)
    panel._opacity_committed()
    assert window.doc.active_layer.opacity == pytest.approx(0.4)
    panel.blend.setCurrentIndex(panel.blend.findText("Multiply"))
    panel._blend_chosen(panel.blend.currentIndex())
    assert window.doc.active_layer.blend.label == "Multiply"


def test_save_as_ora_runs_in_background_and_marks_saved(window, studio, qtbot, tmp_path,
                                                        monkeypatch):
    window.documents.set_document(new_document(48, 32))
    window.doc.add_layer(name="Extra")
    assert window.doc.modified
    target = tmp_path / "work.ora"
    monkeypatch.setattr("artstudio.ui.document_controller.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    window.documents.save()
    qtbot.waitUntil(lambda: not window.doc.modified, timeout=10000)
    reopened, _ = open_document(target)
    assert [layer.name for layer in reopened.layers] == ["Background", "Layer 1", "Extra"]
    assert window.doc.path == target
    assert "*" not in window.windowTitle()


def test_failed_save_keeps_document_modified(window, studio, qtbot, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    window.documents.set_document(new_document(16, 16))
    window.doc.add_layer()
    window.doc.path = tmp_path / "no-such-folder" / "deep" / "x.ora"
    (tmp_path / "no-such-folder").write_text("a file, so the folder cannot exist")
    window.documents.save()
    qtbot.waitUntil(lambda: bool(warnings), timeout=10000)
    assert "x.ora" in warnings[0]
    assert window.doc.modified


def test_export_png(window, qtbot, tmp_path):
    window.documents.set_document(new_document(40, 30))
    handle = window.documents.export(tmp_path / "flat.png")
    assert handle.wait(10) is JobState.DONE
    with Image.open(tmp_path / "flat.png") as image:
        assert image.size == (40, 30)


def test_autosave_and_recovery_after_crash(window, studio, qtbot, artstudio_home, monkeypatch):
    window.documents.set_document(new_document(32, 32))
    window.doc.add_layer(name="Unsaved work")
    handle = window.documents.autosave_now()
    assert handle.wait(10) is JobState.DONE
    wait_jobs_idle(studio, qtbot)
    assert list_recoverable() == []  # this window is writing it: not offered
    crash()
    entries = list_recoverable()
    assert len(entries) == 1
    # The next start finds the autosave: the artist says "Recover".
    window.documents.set_document(None)
    monkeypatch.setattr(RecoveryDialog, "exec", lambda dialog: RecoveryDialog.RECOVER)
    window.documents.offer_recovery()
    qtbot.waitUntil(lambda: window.doc is not None, timeout=10000)
    assert [layer.name for layer in window.doc.layers][-1] == "Unsaved work"
    assert window.doc.modified


def test_close_with_unsaved_changes_asks(window, qtbot, monkeypatch):
    window.documents.set_document(new_document(16, 16))
    window.doc.add_layer()
    asked = []

    def cancel(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    assert window.close() is False
    assert asked and "unsaved changes" in asked[0]
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.close() is True


def test_paste_image_becomes_layer(window, qtbot):
    window.documents.set_document(new_document(64, 64))
    image = QImage(10, 8, QImage.Format.Format_RGBA8888)
    image.fill(Qt.GlobalColor.green)
    QApplication.clipboard().setImage(image)
    window.paste()
    layer = window.doc.active_layer
    assert layer.name == "Pasted" and layer.pixels.shape == (8, 10, 4)
    assert tuple(layer.pixels[0, 0]) == (0, 255, 0, 255)


def test_drop_image_on_open_document_adds_layer(window, studio, qtbot, picture):
    window.documents.set_document(new_document(100, 100))
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(picture))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: len(window.doc.layers) == 3, timeout=10000)
    assert window.doc.active_layer.name == "photo"


def test_brush_size_shortcuts(window, qtbot):
    window.documents.set_document(new_document(16, 16))
    size = window.canvas.brush_settings.size
    window._resize_brush(1.2)
    assert window.canvas.brush_settings.size > size
    assert window.brush_panel.size.value() == round(window.canvas.brush_settings.size)


def test_keyboard_shortcuts_pick_tools(window, qtbot):
    from artstudio.ui.canvas_view import Tool

    window.documents.set_document(new_document(16, 16))
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_E)
    assert window.canvas.tool is Tool.ERASER
    qtbot.keyClick(window.canvas, Qt.Key.Key_B)
    assert window.canvas.tool is Tool.BRUSH


def test_drag_reorder_in_layers_panel_moves_layer(window, qtbot):
    from PySide6.QtCore import QModelIndex

    window.documents.set_document(new_document(16, 16))
    window.doc.add_layer(name="Top")  # stack bottom-first: Background, Layer 1, Top
    panel = window.layers_panel
    assert panel.list.item(0).text() == "Top"
    # Drag the top row below the bottom row, as a mouse drag in the list does.
    moved = panel.list.model().moveRow(QModelIndex(), 0, QModelIndex(), 3)
    assert moved
    qtbot.waitUntil(lambda: window.doc.layers[0].name == "Top")
    assert [layer.name for layer in window.doc.layers] == ["Top", "Background", "Layer 1"]


def test_export_dialog_asks_jpeg_quality(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    window.documents.set_document(new_document(64, 48))
    target = tmp_path / "out.jpg"
    monkeypatch.setattr("artstudio.ui.document_controller.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), "JPEG (*.jpg *.jpeg)"))
    asked = []
    monkeypatch.setattr(QInputDialog, "getInt",
                        lambda *a, **k: (asked.append(a[2]) or 40, True))
    window.documents.export_dialog()
    qtbot.waitUntil(target.exists, timeout=10000)
    assert asked and "JPG quality" in asked[0]


def test_open_finishing_after_new_work_asks_again(window, studio, qtbot, picture, monkeypatch):
    """The question is asked when Open is chosen; if the artist starts new work
    while the file loads, replacing it must ask again."""
    asked = []

    def cancel(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    gate = __import__("threading").Event()
    real_open = __import__("artstudio.ui.document_controller",
                           fromlist=["open_document"]).open_document

    def slow_open(path, max_mp):
        gate.wait(10)
        return real_open(path, max_mp)

    monkeypatch.setattr("artstudio.ui.document_controller.open_document", slow_open)
    window.documents.open(picture)  # nothing open: no question
    work = new_document(20, 20)
    window.documents.set_document(work)
    work.add_layer(name="new work")
    gate.set()
    qtbot.waitUntil(lambda: bool(asked), timeout=10000)
    assert window.doc is work  # the artist said Cancel: the new work stays


def test_dropping_several_images_on_an_empty_window(window, studio, qtbot, picture, tmp_path):
    small = tmp_path / "small.png"
    Image.new("RGB", (8, 8), (0, 0, 255)).save(small)
    window.open_paths([picture, small])
    qtbot.waitUntil(lambda: window.doc is not None and len(window.doc.layers) == 2,
                    timeout=10000)
    assert [layer.name for layer in window.doc.layers] == ["photo", "small"]


def test_opacity_from_keyboard_is_applied(window, qtbot):
    window.documents.set_document(new_document(16, 16))
    panel = window.layers_panel
    panel.opacity.setValue(35)  # as a key press or wheel step does: no drag
    assert window.doc.active_layer.opacity == pytest.approx(0.35)
