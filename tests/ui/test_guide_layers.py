"""Guide layers in the window: made in the layers panel, undone, marked in the
list, sent with the Generate panel's request, and the family's line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from panel_jobs import generate_and_wait
from PySide6.QtCore import Qt

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.model_files.identify import identify

FRAME = Rect(16, 8, 64, 48)


@pytest.fixture
def window(studio, tiny_models):
    studio._probe_timer.stop()  # its late model scan would replace the models and the status
    window = studio.window
    window.generate_panel.set_models([identify(tiny_models["sd1"]["diffusers"])])
    doc = new_document(96, 64)
    paint = np.zeros((64, 96, 4), np.uint8)
    paint[...] = (0, 0, 255, 255)
    doc.add_layer(paint, name="Paint")
    lines = np.zeros((64, 96, 4), np.uint8)
    lines[30, 20:70] = (0, 0, 0, 255)
    lines[10:50, 40] = (0, 0, 0, 255)
    doc.add_layer(lines, name="Lines")
    doc.set_frame(FRAME)
    doc.clear_history()
    window.documents.set_document(doc)
    window.generate_panel.steps.setValue(2)
    window.generate_panel.seed.setValue(7)
    return window


def choose(combo, data) -> None:
    """Pick the item holding `data` as the artist does (emits `activated`)."""
    index = combo.findData(data)
    assert index >= 0 and combo.model().item(index).isEnabled()
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def make_control(window, kind: str = "canny"):
    editor = window.layers_panel.guide
    choose(editor.role, "control")
    choose(editor.kind, kind)
    return editor


def test_a_control_layer_made_in_the_panel_goes_with_the_request(window):
    doc = window.layers_panel.doc
    assert doc.active_layer.name == "Lines"
    editor = make_control(window)
    editor.strength.setValue(0.6)
    assert doc.active_layer.guide == {"role": "control", "kind": "canny", "strength": 0.6,
                                      "start": 0.0, "end": 1.0, "preprocess": True,
                                      "preprocessor": ""}
    panel = window.generate_panel
    panel.prompt.setPlainText("a house")
    panel.mode.setCurrentIndex(panel.mode.findData("img2img"))
    params, _target = panel.build_request()
    (control,) = params.controls
    assert (control.kind, control.strength, control.preprocess) == ("canny", 0.6, True)
    # The layer's pixels inside the frame, on white: its lines, nothing of the paint.
    expected = np.full((48, 64, 3), 255, np.uint8)
    expected[22, 4:54] = 0
    expected[2:42, 24] = 0
    assert np.array_equal(control.image, expected)
    # The picture the generation starts from is the paint alone (canny lines are no paint).
    assert (np.asarray(params.init_image)[..., :3] == (0, 0, 255)).all()
    assert params.regions == () and params.references == ()


def test_the_role_change_is_undone_and_the_list_marks_guide_layers(window):
    doc = window.layers_panel.doc
    panel = window.layers_panel
    plain_icon = panel.list.item(0).icon().pixmap(44, 44).toImage()
    make_control(window, "softedge")
    item = panel.list.item(0)  # the top row: Lines
    assert "control: softedge" in item.toolTip()
    assert item.icon().pixmap(44, 44).toImage() != plain_icon  # the badge
    assert doc.undo_label == "Guide settings"  # the kind chosen after the role
    doc.undo()
    doc.undo()
    assert doc.active_layer.guide is None
    assert panel.guide.role.currentData() is None
    assert not panel.guide.control_box.isVisibleTo(panel.guide)
    assert "control" not in panel.list.item(0).toolTip()
    doc.redo()
    assert doc.active_layer.guide["role"] == "control"
    assert panel.guide.role.currentData() == "control"


def test_network_kinds_are_greyed_with_the_reason(window, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ComfyUI annotators here
    editor = make_control(window)
    at = editor.kind.findData("depth")
    assert not editor.kind.model().item(at).isEnabled()
    assert "depth_anything" in editor.kind.itemData(at, Qt.ItemDataRole.ToolTipRole)
    editor.preprocess.click()  # off: a ready depth image can be of any kind
    assert editor.kind.model().item(at).isEnabled()
    choose(editor.kind, "depth")
    editor.preprocess.click()  # on again: depth would need its network
    doc = window.layers_panel.doc
    assert doc.active_layer.guide["preprocess"] is False
    assert "depth_anything" in editor.message.text()


def test_a_region_layer_generates_with_its_prompt(window, qtbot):
    doc = window.layers_panel.doc
    region = np.zeros((64, 96, 4), np.uint8)
    region[8:40, 16:48] = (255, 0, 0, 255)
    doc.add_layer(region, name="Cat here")
    editor = window.layers_panel.guide
    choose(editor.role, "region")
    editor.prompt.setText("a red cat")
    editor.prompt.editingFinished.emit()
    assert doc.active_layer.guide == {"role": "region", "prompt": "a red cat"}
    panel = window.generate_panel
    panel.prompt.setPlainText("a garden")
    params, _target = panel.build_request()
    (spec,) = params.regions
    expected = np.zeros((48, 64), np.uint8)
    expected[0:32, 0:32] = 255
    assert spec.prompt == "a red cat" and np.array_equal(spec.mask, expected)
    generate_and_wait(panel, qtbot)
    meta = json.dumps(panel.results.candidates[0].params)
    assert "a red cat" in meta


def test_an_empty_region_stops_the_request_naming_the_layer(window):
    doc = window.layers_panel.doc
    doc.add_layer(name="Sky")
    choose(window.layers_panel.guide.role, "region")
    window.layers_panel.guide.prompt.setText("a blue sky")
    window.layers_panel.guide.prompt.editingFinished.emit()
    panel = window.generate_panel
    panel.prompt.setPlainText("a garden")
    assert panel.generate() is None
    assert "Sky" in panel.status.text() and "nothing painted" in panel.status.text()


def test_show_control_image_adds_the_preview_as_the_control(window, qtbot):
    doc = window.layers_panel.doc
    editor = make_control(window)
    editor.show_control.click()
    qtbot.waitUntil(lambda: doc.active_layer.name.startswith("[Control]"), timeout=20000)
    shown = doc.active_layer
    assert shown.name == "[Control] Lines" and shown.guide["preprocess"] is False
    assert (shown.x, shown.y, shown.width, shown.height) == (16, 8, 64, 48)
    assert shown.pixels[..., 0].max() == 255  # canny found the lines
    assert not next(layer for layer in doc.layers if layer.name == "Lines").visible
    assert window.layers_panel.guide.role.currentData() == "control"


def lineart_network_here(tmp_path, monkeypatch):
    """The realistic line-art network (random weights, published names) in the
    app's annotator folder, run at 64 px so it stays quick."""
    import torch

    from artstudio.control import preprocessors
    from artstudio.control.annotators import lineart, loading

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(loading, "DETECT_RESOLUTION", 64)
    loading.forget()
    folder = preprocessors.annotator_folders()[0]
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(lineart.build().state_dict(), folder / "sk_model.pth")


def test_a_network_preprocessor_is_chosen_and_made_on_a_worker(window, qtbot, tmp_path,
                                                                monkeypatch):
    lineart_network_here(tmp_path, monkeypatch)
    doc = window.layers_panel.doc
    editor = make_control(window, "lineart")
    row = editor._preprocessor_row
    assert editor.control_box.layout().isRowVisible(row)
    assert editor.preprocessor.itemData(0) == ""  # the kind's own (OpenCV) first
    anime = editor.preprocessor.findData("lineart_anime")  # its file is not here
    assert not editor.preprocessor.model().item(anime).isEnabled()
    assert "netG.pth" in editor.preprocessor.itemData(anime, Qt.ItemDataRole.ToolTipRole)
    choose(editor.preprocessor, "lineart_model")
    assert doc.active_layer.guide["preprocessor"] == "lineart_model"
    window.generate_panel.prompt.setPlainText("a house")
    params, _target = window.generate_panel.build_request()
    assert params.controls[0].preprocessor == "lineart_model"
    # The network runs as a job; the new control layer arrives with its result.
    assert editor.runner is window.runner
    editor.show_control.click()
    assert editor.message.text() == "Making the control image…"
    qtbot.waitUntil(lambda: doc.active_layer.name == "[Control] Lines", timeout=60000)
    shown = doc.active_layer
    assert (shown.width, shown.height) == (64, 48)
    assert shown.guide["preprocessor"] == "lineart_model" and shown.guide["preprocess"] is False
    assert editor.message.text() == ""
    # Preprocessing off needs no choice of preprocessor.
    assert not editor.control_box.layout().isRowVisible(row)


def test_a_flux_model_says_what_it_cannot_use(studio, tiny_flux, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "artstudio.control.references", None)  # not built here
    studio._probe_timer.stop()
    window = studio.window
    doc = new_document(96, 64)
    lines = np.zeros((64, 96, 4), np.uint8)
    lines[30, 20:70] = (0, 0, 0, 255)
    doc.add_layer(lines, name="Lines")
    window.documents.set_document(doc)
    panel = window.generate_panel
    panel.set_models([identify(tiny_flux["flux-schnell"]["diffusers"])])
    note = panel.guide_note
    assert note.isHidden()  # no guide layers: nothing to say
    make_control(window)
    assert note.isHidden()  # ControlNets guide FLUX.1
    region = np.zeros((64, 96, 4), np.uint8)
    region[8:40, 16:48] = (255, 0, 0, 255)
    doc.add_layer(region, name="Cat here")
    choose(window.layers_panel.guide.role, "region")
    window.layers_panel.guide.prompt.setText("a red cat")
    window.layers_panel.guide.prompt.editingFinished.emit()
    assert not note.isHidden()
    assert "FLUX" in note.text() and "regions" in note.text()
    panel.prompt.setPlainText("a house")
    params, _target = panel.build_request()
    assert params.regions == () and len(params.controls) == 1  # left out, as the line says
    doc.set_layer_visible(doc.active_index, False)
    assert note.isHidden()  # a hidden guide is switched off


def test_restoring_a_generation_made_beside_guide_layers_finds_its_picture(window, qtbot):
    """The history compares the picture a generation would take now, guide
    layers left out as when it ran: the canvas has not changed."""
    doc = window.layers_panel.doc
    region = np.zeros((64, 96, 4), np.uint8)
    region[8:40, 16:48] = (255, 0, 0, 255)
    doc.add_layer(region, name="Cat here")
    doc.set_layer_guide(doc.active_index, {"role": "region", "prompt": "a red cat"})
    panel = window.generate_panel
    panel.prompt.setPlainText("a garden")
    panel.mode.setCurrentIndex(panel.mode.findData("img2img"))
    generate_and_wait(panel, qtbot)
    entry = panel.history.entries[-1]
    assert "picture_digest" in entry.settings
    assert panel.restore_entry(entry) == []
