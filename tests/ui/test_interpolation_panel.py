"""The Interpolate panel end to end through the engine with a tiny random
model: a strip of frames fills as they arrive, a frame goes to the canvas as
a layer, the whole journey becomes layers or an exported file."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.model_files.identify import identify

FRAMES = 5


@pytest.fixture
def panel(studio, tiny_models, qtbot):
    window = studio.window

    def startup_scan_done():  # else its empty list of models could replace the tiny one
        scans = [r for r in studio.engine.jobs() if r.title == "Find models"]
        return (not studio._probe_timer.isActive() and all(r.state.finished for r in scans)
                and not {r.id for r in scans} & set(window.runner._callbacks))

    qtbot.waitUntil(startup_scan_done, timeout=60000)
    window.generate_panel.set_models([identify(tiny_models["sd1"]["diffusers"])])
    window.documents.set_document(new_document(64, 64))
    generate = window.generate_panel
    generate.steps.setValue(2)
    generate.sampler.setCurrentIndex(generate.sampler.findData("euler"))
    panel = window.interpolation_panel
    panel.prompts.setPlainText("a lighthouse at dusk")
    panel.seeds.setText("3, 9")
    panel.frames.setValue(FRAMES)
    return panel


def run_journey(panel, qtbot, state=JobState.DONE, while_running=None):
    handle = panel.start()
    assert handle is not None, panel.status.text()
    if while_running is not None:
        while_running()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=120000)
    assert handle.state is state, handle.error
    qtbot.waitUntil(lambda: panel._job is None, timeout=5000)
    return handle


def test_seed_journey_fills_the_strip_and_a_click_makes_a_layer(panel, qtbot):
    arrivals = []
    panel._relay.arrived.connect(lambda store, position, thumb: arrivals.append(position))
    run_journey(panel, qtbot)
    qtbot.waitUntil(lambda: panel.strip.count() == FRAMES, timeout=5000)
    assert arrivals == list(range(FRAMES))  # one by one, in order, as they were made
    assert len(panel.store) == FRAMES
    assert "5 frames" in panel.status.text()

    doc = panel.doc
    before = len(doc.layers)
    item = panel.strip.item(2)
    rect = panel.strip.visualItemRect(item)
    from PySide6.QtCore import Qt

    qtbot.mouseClick(panel.strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(doc.layers) == before + 1
    layer = doc.active_layer
    frame = panel.store.frame(2)
    assert (layer.x, layer.y, layer.width, layer.height) == (0, 0, 64, 64)
    assert np.array_equal(layer.pixels[..., :3], np.asarray(frame.image))
    assert (layer.pixels[..., 3] == 255).all()
    assert layer.generation["interpolation"]["frame"] == 2
    assert doc.undo_label == "Journey frame as layer"
    doc.undo()
    assert len(doc.layers) == before


def test_all_frames_as_layers_adds_the_sequence_in_one_step(panel, qtbot):
    run_journey(panel, qtbot)
    doc = panel.doc
    before = len(doc.layers)
    layers = panel.all_to_canvas()
    assert len(doc.layers) == before + FRAMES
    assert [layer.name for layer in doc.layers[-FRAMES:]] == [
        f"Journey frame {i:03d}" for i in range(1, FRAMES + 1)]
    for i, layer in enumerate(layers):
        assert np.array_equal(layer.pixels[..., :3], np.asarray(panel.store.frame(i).image))
    assert doc.undo_label == "Journey frames as layers"
    doc.undo()
    assert len(doc.layers) == before

    first = panel.store.folder
    panel.seeds.setText("4, 5")
    run_journey(panel, qtbot)  # a new journey replaces the strip; the old frames leave the disk
    assert not first.exists()
    qtbot.waitUntil(lambda: panel.strip.count() == FRAMES, timeout=5000)
    assert panel.store.frame(0).params["seed"] == 4


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_export_writes_a_file_with_every_frame(panel, qtbot, tmp_path, suffix):
    out = tmp_path / f"journey{suffix}"

    def export_too_early():  # a file of half a journey would look complete
        assert panel.export_to(out) is None
        assert "still being made" in panel.status.text()
        assert not panel.export_button.isEnabled()

    run_journey(panel, qtbot, while_running=export_too_early)
    assert panel.export_button.isEnabled()
    handle = panel.export_to(out)
    qtbot.waitUntil(lambda: handle.state.finished, timeout=60000)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: panel._export is None, timeout=5000)
    with Image.open(out) as image:
        assert image.n_frames == FRAMES
        assert image.size == (64, 64)
    assert f"Exported {out.name}: {FRAMES} frames" in panel.status.text()


def test_one_keyframe_is_refused_with_one_line(panel, qtbot):
    panel.seeds.setText("3")
    assert panel.start() is None
    text = panel.status.text()
    assert "at least two keyframes" in text and "\n" not in text
    assert panel._job is None and panel.store is None
    panel.seeds.setText("3, x")
    assert panel.start() is None
    assert "“x” is not a seed" in panel.status.text()


def test_cancelled_journey_keeps_its_frames_and_its_export_says_so(panel, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    generate = panel.generate
    generate.sampler.setCurrentIndex(generate.sampler.findData("euler_a"))
    assert panel.sampler_note.isVisibleTo(panel)
    assert "Euler a" in panel.sampler_note.text() and "deterministic" in panel.sampler_note.text()
    panel.frames.setValue(12)

    def cancel_after_first(store, position, thumb):  # on the worker, as the frame is handed on
        if position == 0:
            panel._job.cancel()

    panel._relay.arrived.connect(cancel_after_first, Qt.ConnectionType.DirectConnection)
    run_journey(panel, qtbot, state=JobState.CANCELLED)
    qtbot.waitUntil(lambda: panel.strip.count() == 1, timeout=5000)
    assert panel.store.cancelled and len(panel.store) == 1
    assert "1 of 12 frames made, and kept" in panel.status.text()
    assert panel.store.frame(0).params["scheduler"] == "euler"  # Euler a's counterpart

    out = tmp_path / "cut.gif"
    handle = panel.export_to(out)
    qtbot.waitUntil(lambda: handle.state.finished, timeout=60000)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: panel._export is None, timeout=5000)
    with Image.open(out) as image:
        assert image.n_frames == 1
    assert "holds 1 of 12 frames" in panel.status.text()


def test_picture_morph_from_a_layer_to_a_file_of_another_size(panel, qtbot, tmp_path):
    doc = panel.doc
    red = np.zeros((64, 64, 4), np.uint8)
    red[..., 0], red[..., 3] = 220, 255
    doc.add_layer(red, name="Red")
    blue = tmp_path / "blue.png"
    Image.new("RGB", (48, 80), (20, 40, 230)).save(blue)
    panel.kind.setCurrentIndex(panel.kind.findData("morph"))
    combo = panel.pictures["a"]
    combo.setCurrentIndex(combo.findText("Layer: Red"))
    panel.add_picture_file("b", blue)
    panel.frames.setValue(3)
    run_journey(panel, qtbot)
    qtbot.waitUntil(lambda: panel.strip.count() == 3, timeout=5000)
    assert "The second picture (48x80) was fitted to 64x64" in panel.status.text()
    first, last = (np.asarray(panel.store.frame(i).image).astype(int) for i in (0, 2))
    # the VAE's idea of each picture: the first reddest, the last bluest
    assert first[..., 0].mean() - first[..., 2].mean() > last[..., 0].mean() - last[..., 2].mean()
    assert panel.store.frame(1).params["mode"] == "morph"


def test_staged_results_become_keyframes_and_morph_pictures(panel, qtbot):
    from artstudio.diffusion.results import Candidate, ResultTarget
    from artstudio.document.staleness import DocumentMark

    target = ResultTarget("txt2img", panel.doc.rect, DocumentMark.of(panel.doc))
    tray = panel.generate.results
    for seed, prompt in ((11, "a fox"), (12, "a whale")):
        tray.add(Candidate(Image.new("RGB", (64, 64), (seed, 0, 0)), {"prompt": prompt},
                           target, seed))
    panel.seeds.clear()
    panel.prompts.clear()
    panel.keyframes_from_results()
    assert panel.seeds.text() == "11, 12"
    assert panel.prompts.toPlainText() == "a fox\na whale"
    plan, _even = panel.build_plan()
    assert [(k.seed, k.prompt) for k in plan.keyframes] == [(11, "a fox"), (12, "a whale")]
    assert plan.generation.scheduler == "euler" and plan.generation.steps == 2
    assert (plan.generation.width, plan.generation.height) == (64, 64)
    texts = [panel.pictures["b"].itemText(i) for i in range(panel.pictures["b"].count())]
    assert "Result 2: seed 12" in texts
    panel.kind.setCurrentIndex(panel.kind.findData("morph"))
    combo = panel.pictures["b"]
    combo.setCurrentIndex(combo.findText("Result 2: seed 12"))
    assert panel._picture("b").getpixel((0, 0)) == (12, 0, 0)
    panel.doc.add_layer(name="Sketch")  # the lists are filled again; the choice stays
    assert combo.currentText() == "Result 2: seed 12"
    assert panel.pictures["a"].findText("Layer: Sketch") >= 0


def test_a_longer_message_does_not_move_the_frames(panel, studio, qtbot):
    """The strip stays where the artist sees it when the status grows to
    several lines (a click meant for one frame must not land on another)."""
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.interpolation_dock.raise_()
    qtbot.waitUntil(lambda: panel.strip.isVisible(), timeout=5000)
    top = panel.strip.mapTo(panel, panel.strip.rect().topLeft()).y()
    panel.status.setText("A note long enough to wrap over several lines of the panel. " * 6)
    qtbot.wait(50)  # the layout is redone on the next turn of the event loop
    assert panel.strip.mapTo(panel, panel.strip.rect().topLeft()).y() == top
