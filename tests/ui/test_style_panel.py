"""The Style panel: gallery, stylizing a layer or the frame, apply as a layer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.ui.style_panel import sample_picture


@pytest.fixture
def panel(studio, qtbot):
    panel = studio.window.style_panel
    doc = new_document(80, 60)
    doc.set_layer_pixels(0, np.dstack([np.tile(np.linspace(0, 255, 80, dtype=np.uint8),
                                               (60, 1))] * 3 + [np.full((60, 80), 255,
                                                                        np.uint8)]))
    doc.active_index = 0  # the painted background, not the empty "Layer 1"
    studio.window.documents.set_document(doc)
    return panel


def wait_done(handle, qtbot):
    qtbot.waitUntil(lambda: handle.state.finished, timeout=60000)
    assert handle.state is JobState.DONE, handle.error


def test_stylize_frame_then_apply_as_layer(panel, qtbot):
    doc = panel.doc
    doc.set_frame(Rect(10, 5, 40, 30))
    panel.source.setCurrentIndex(panel.source.findData("frame"))
    panel.chooser.select_styles([3])
    handle = panel.stylize()
    wait_done(handle, qtbot)
    qtbot.waitUntil(lambda: panel._result is not None, timeout=5000)
    assert panel.preview.pixmap() is not None and not panel.preview.pixmap().isNull()
    before = doc.composite(Rect(10, 5, 40, 30)).copy()
    layer = panel.apply_result()
    assert (layer.x, layer.y, layer.width, layer.height) == (10, 5, 40, 30)
    assert np.abs(layer.pixels[..., :3].astype(int) - before[..., :3]).mean() > 5
    assert doc.undo_label == "Apply style"


def test_blend_of_selected_styles(panel, qtbot):
    panel.chooser.gallery.clearSelection()
    panel.chooser.gallery.item(1).setSelected(True)
    panel.chooser.gallery.item(4).setSelected(True)
    options = panel.options()
    weights = np.array(options.style_weights)
    assert np.count_nonzero(weights) == 2 and abs(weights.sum() - 1) < 1e-6


def test_painting_style_needs_a_painting(panel, tmp_path, qtbot):
    panel.chooser.engine.setCurrentIndex(panel.chooser.engine.findData("arbitrary"))
    assert panel.stylize() is None
    assert "painting" in panel.status.text()
    painting = tmp_path / "painting.png"
    Image.fromarray(sample_picture(64)[..., :3]).save(painting)
    panel.chooser.add_paintings([str(painting)])
    panel.source.setCurrentIndex(panel.source.findData("layer"))
    handle = panel.stylize()
    wait_done(handle, qtbot)
    qtbot.waitUntil(lambda: panel._result is not None, timeout=5000)
    assert panel._result.pixels.shape == (60, 80, 4)


def test_unsafe_cyclegan_file_is_refused_with_message(panel, tmp_path, qtbot):
    bad = tmp_path / "painter.pth"
    bad.write_bytes(b"not a model")
    panel.chooser.engine.setCurrentIndex(panel.chooser.engine.findData("cyclegan"))
    panel.chooser.set_cyclegan(str(bad))
    handle = panel.stylize()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    assert handle.state is JobState.FAILED
    qtbot.waitUntil(lambda: panel._job is None, timeout=5000)
    assert panel.cancel_button.isEnabled() is False
    qtbot.waitUntil(lambda: "painter.pth" in panel.status.text(), timeout=5000)


def test_gallery_thumbnails_render_once_and_are_cached(panel, qtbot, artstudio_home):
    handle = panel.load_gallery()
    wait_done(handle, qtbot)
    qtbot.waitUntil(lambda: not panel.chooser.gallery.item(25).icon().isNull(), timeout=5000)
    cached = sorted((artstudio_home / "data" / "style-thumbnails").glob("*.png"))
    assert panel.chooser.show_thumbnails()
    assert len(cached) == 26
    stamp = cached[0].stat().st_mtime_ns
    wait_done(panel.load_gallery(), qtbot)
    assert cached[0].stat().st_mtime_ns == stamp


def test_transparent_source_is_explained(panel, qtbot):
    panel.doc.active_index = 1
    panel.source.setCurrentIndex(panel.source.findData("layer"))
    assert panel.stylize() is None
    assert "transparent" in panel.status.text()


def test_batch_dialog_starts_from_the_panels_style(panel, qtbot, tmp_path):
    from artstudio.ui.batch_dialog import StyleBatchDialog

    painting = tmp_path / "p.png"
    Image.fromarray(sample_picture(32)[..., :3]).save(painting)
    panel.chooser.select_styles([2, 5])
    panel.chooser.strength.setValue(60)
    panel.open_batch()
    dialogs = [w for w in panel.findChildren(StyleBatchDialog)]
    assert dialogs
    chosen = dialogs[-1].chooser.choice()
    assert chosen.styles == [2, 5] and chosen.strength == 60
    options = dialogs[-1].options()
    assert np.count_nonzero(options.style_weights) == 2
    dialogs[-1].close()
