"""Image > Upscale through the engine: every layer through the model, the mask
and frame scaled, one undo step, and no stale result over newer strokes."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.selftest.random_models import save_random_compact
from artstudio.ui.upscale_dialog import (
    UpscaleBatchDialog,
    UpscaleDialog,
    upscale_document,
    upscale_region,
)
from artstudio.upscale.builtin import BUILTIN
from artstudio.upscale.upscaling import (
    UpscaleOptions,
    load_upscaler,
    upscale,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_random_compact(tmp_path_factory.mktemp("m") / "compact-x2.pth")


def test_upscale_document_with_a_model(studio, qtbot, model):
    window = studio.window
    doc = new_document(40, 30)
    doc.add_layer(np.full((10, 12, 4), (200, 30, 30, 255), np.uint8), name="patch", x=5, y=4)
    mask = np.zeros((30, 40), np.uint8)
    mask[:10] = 255
    doc.set_mask(mask)
    doc.set_frame(Rect(2, 2, 20, 16))
    window.documents.set_document(doc)
    patch_before = doc.layer(2).pixels.copy()
    handle = upscale_document(window, doc, UpscaleOptions(model=str(model), scale=2.0))
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    assert handle.state is JobState.DONE
    qtbot.waitUntil(lambda: doc.size == (80, 60), timeout=5000)
    patch = doc.layer(2)
    assert (patch.x, patch.y, patch.width, patch.height) == (10, 8, 24, 20)
    expected = upscale(patch_before, UpscaleOptions(model=str(model), scale=2.0))
    assert np.array_equal(patch.pixels, expected)
    assert doc.mask.shape == (60, 80) and doc.mask[:16].min() > 240 and doc.mask[24:].max() < 16
    assert tuple(doc.frame) == (4, 4, 40, 32)
    assert doc.undo_label == "Upscale image"
    doc.undo()
    assert doc.size == (40, 30) and np.array_equal(doc.layer(2).pixels, patch_before)


def test_result_is_not_applied_over_newer_strokes(studio, qtbot, model, monkeypatch):
    window = studio.window
    doc = new_document(32, 32)
    window.documents.set_document(doc)
    load_upscaler(model, "auto")
    handle = upscale_document(window, doc, UpscaleOptions(model=None, scale=2.0))
    doc.add_layer(name="painted meanwhile")
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    qtbot.waitUntil(lambda: "changed while upscaling" in window.status_message.text(),
                    timeout=5000)
    assert doc.size == (32, 32)


def test_dialog_options(qtbot, model):
    dialog = UpscaleDialog()
    qtbot.addWidget(dialog)
    assert dialog.options().model == BUILTIN and dialog.target_key() == "image"
    dialog.chooser.model.setCurrentIndex(1)
    assert dialog.options().model is None and not dialog.chooser.seamless.isEnabled()
    dialog.chooser.set_model_file(str(model))
    dialog.chooser.set_model_file(str(model))  # listed once
    assert dialog.chooser.model.count() == 3
    dialog.chooser.scale.setValue(3.0)
    dialog.chooser.tile.setValue(128)
    dialog.chooser.seamless.setChecked(True)
    dialog.target.setCurrentIndex(1)
    options = dialog.options()
    assert (options.model, options.scale, options.tile, options.seamless) == \
        (str(model), 3.0, 128, True)
    assert dialog.target_key() == "layer"


def test_layer_upscales_into_a_new_layer_centred_on_its_content(studio, qtbot, model):
    window = studio.window
    doc = new_document(40, 30)
    content = np.zeros((30, 40, 4), np.uint8)
    content[10:20, 8:20] = (30, 200, 40, 255)  # 12x10 painted, the rest transparent
    doc.add_layer(content, name="sketch")
    window.documents.set_document(doc)
    layers_before = len(doc.layers)
    options = UpscaleOptions(model=str(model), scale=2.0, device="cpu")
    handle = upscale_region(window, doc, "layer", options)
    qtbot.waitUntil(lambda: len(doc.layers) == layers_before + 1, timeout=30000)
    assert handle.state is JobState.DONE
    new = doc.active_layer
    assert new.name == "sketch (upscaled)"
    assert (new.width, new.height) == (24, 20)
    assert (new.x, new.y) == (8 + (12 - 24) // 2, 10 + (10 - 20) // 2)  # centred
    assert np.array_equal(new.pixels, upscale(content[10:20, 8:20], options))
    doc.undo()
    assert len(doc.layers) == layers_before


def test_frame_upscales_the_visible_image_in_it(studio, qtbot):
    window = studio.window
    doc = new_document(32, 32)
    doc.add_layer(np.full((32, 32, 4), (250, 0, 0, 255), np.uint8), name="red")
    doc.set_frame(Rect(4, 4, 8, 8))
    window.documents.set_document(doc)
    upscale_region(window, doc, "frame", UpscaleOptions(model=None, scale=3.0))
    qtbot.waitUntil(lambda: doc.active_layer.name == "Frame (upscaled)", timeout=30000)
    new = doc.active_layer
    assert (new.width, new.height, new.x, new.y) == (24, 24, -4, -4)
    assert (new.pixels[..., 0] > 240).all()


def test_empty_layer_is_explained(studio):
    window = studio.window
    doc = new_document(16, 16)
    doc.add_layer(name="empty")
    window.documents.set_document(doc)
    assert upscale_region(window, doc, "layer", UpscaleOptions(model=None)) is None
    assert "nothing to upscale" in window.status_message.text()


def test_folder_dialog_upscales_with_the_shared_batch_machinery(qtbot, model, tmp_path):
    from PIL import Image

    from artstudio.engine import Engine
    from artstudio.ui.batch_dialog import REPORT_NAME
    from artstudio.ui.engine_bridge import EngineBridge
    from artstudio.ui.job_runner import JobRunner

    src, out = tmp_path / "in", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    Image.new("RGB", (20, 16), (10, 120, 200)).save(src / "a.png")
    Image.new("RGBA", (12, 10), (200, 20, 20, 100)).save(src / "sub" / "b.png")
    (src / "broken.jpg").write_bytes(b"nope")
    engine = Engine(pool_workers=1)
    bridge = EngineBridge(engine)
    dialog = UpscaleBatchDialog(JobRunner(bridge), device="cpu")
    qtbot.addWidget(dialog)
    try:
        dialog.input_edit.setText(str(src))
        dialog.output_edit.setText(str(out))
        dialog.recursive_check.setChecked(True)
        dialog.chooser.set_model_file(str(model))
        with qtbot.waitSignal(dialog.batch_finished, timeout=60000) as finished:
            dialog.start_button.click()
        report = finished.args[0]
        assert len(report.written) == 2 and len(report.failed) == 1
        with Image.open(out / "a.png") as a, Image.open(out / "sub" / "b.png") as b:
            assert a.size == (40, 32) and b.size == (24, 20) and b.mode == "RGBA"
        assert (out / REPORT_NAME).is_file()
        assert dialog.failures_list.count() == 1
        assert dialog.windowTitle() == "Upscale a folder"
    finally:
        dialog.close()
        bridge.detach()
        engine.shutdown()


def test_found_upscalers_are_offered_once_and_keep_the_choice(qtbot, model):
    from artstudio.model_files.identify import identify

    dialog = UpscaleDialog()
    qtbot.addWidget(dialog)
    chooser = dialog.chooser
    chooser.model.setCurrentIndex(1)  # Lanczos
    info = identify(model)
    chooser.set_found([info])
    chooser.set_found([info])
    assert chooser.model.count() == 3 and chooser.model.currentData() is None
    assert "compact-x2" in chooser.model.itemText(2)
    chooser.model.setCurrentIndex(2)
    assert dialog.options().model == str(model)
