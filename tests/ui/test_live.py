"""Live mode in the window: strokes feed the live session, results show in
the live view, Apply keeps one as a layer, and the brush never waits."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.live.run import live_run
from artstudio.model_files.identify import identify


@pytest.fixture
def window(studio, tiny_models, qtbot):
    window = studio.window
    studio._probe_timer.stop()  # the start's model scan must not replace the test's model
    window.generate_panel.set_models([identify(tiny_models["sd1"]["diffusers"])])
    doc = new_document(96, 64)
    doc.set_frame(Rect(0, 0, 64, 64))
    doc.clear_history()
    window.documents.set_document(doc)
    window.generate_panel.prompt.setPlainText("a red hill")
    canvas = window.canvas
    canvas.set_zoom(1.0)
    canvas._pan = QPointF(0, 0)  # widget pixel == document pixel
    return window


class Held:
    """A live job function whose runs wait at their start until let go."""

    def __init__(self):
        self.started = threading.Semaphore(0)
        self.gate = threading.Event()
        self.handles_seen = 0

    def __call__(self, params, progress, cancel):
        self.started.release()
        self.gate.wait(30)
        return live_run(params, progress, cancel)


def mouse(canvas, kind, x, y):
    pos = QPointF(x, y)
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else \
        Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else \
        Qt.MouseButton.LeftButton
    QApplication.sendEvent(canvas, QMouseEvent(kind, pos, QPointF(canvas.mapToGlobal(pos)),
                                               button, buttons, Qt.KeyboardModifier.NoModifier))


def stroke(canvas, y: float) -> None:
    mouse(canvas, QMouseEvent.Type.MouseButtonPress, 8, y)
    for x in range(12, 56, 4):
        mouse(canvas, QMouseEvent.Type.MouseMove, x, y)
    mouse(canvas, QMouseEvent.Type.MouseButtonRelease, 56, y)


def live_jobs(studio):
    return [j for j in studio.engine.jobs() if j.title.startswith("Live")]


def test_quick_strokes_cancel_the_stale_run_and_keep_one_pending(window, studio, qtbot):
    controls = window.generate_panel.live
    held = Held()
    controls.session.run_fn = held
    controls.toggle.setChecked(True)
    assert controls.session.active, controls.note.text()
    assert held.started.acquire(timeout=30)  # the first run is in flight
    for y in (10, 20, 30, 40, 50):
        stroke(window.canvas, y)
    assert len(live_jobs(studio)) == 1  # strokes queue nothing behind it
    assert controls.session.pending
    held.gate.set()
    qtbot.waitUntil(lambda: controls.latest is not None, timeout=60000)
    jobs = live_jobs(studio)
    assert [j.state for j in jobs] == [JobState.CANCELLED, JobState.DONE]
    assert controls.session.stats.cancelled == 1
    assert controls.latest.revision == controls.session.revision
    assert window.live_dock.isVisibleTo(window)
    assert window.live_view.picture.pixmap() is not None


def test_painting_goes_on_while_a_run_is_in_flight(window, studio, qtbot):
    controls = window.generate_panel.live
    held = Held()
    controls.session.run_fn = held
    controls.toggle.setChecked(True)
    assert held.started.acquire(timeout=30)
    doc = window.doc
    before = doc.layer(doc.active_index).pixels.copy()
    stroke(window.canvas, 30)  # returns while the run still waits
    assert live_jobs(studio)[0].state is JobState.RUNNING
    assert (doc.layer(doc.active_index).pixels != before).any()
    held.gate.set()
    qtbot.waitUntil(lambda: controls.latest is not None, timeout=60000)


def test_apply_makes_a_layer_with_the_live_parameters(window, studio, qtbot):
    controls = window.generate_panel.live
    window.generate_panel.seed.setValue(5)
    controls.toggle.setChecked(True)
    qtbot.waitUntil(lambda: controls.latest is not None, timeout=60000)
    doc = window.doc
    count = len(doc.layers)
    layer = window.live_view.apply()
    assert layer is not None, window.live_view.status.text()
    assert len(doc.layers) == count + 1
    assert (layer.x, layer.y, layer.width, layer.height) == (0, 0, 64, 64)
    assert layer.generation["prompt"] == "a red hill"
    assert layer.generation["seed"] == controls.session.seed
    assert layer.generation["mode"] == "img2img"
    assert layer.generation["steps"] == 8  # the tiny model is an ordinary one
    assert np.array_equal(layer.pixels[..., :3],
                          np.asarray(controls.latest.result.images[0].convert("RGB")))


def test_the_preview_over_the_frame_follows_the_live_picture(window, studio, qtbot):
    controls, view = window.generate_panel.live, window.live_view
    view.over_frame.setChecked(True)
    controls.toggle.setChecked(True)
    qtbot.waitUntil(lambda: controls.latest is not None, timeout=60000)
    shown = window.canvas.result_preview.shown
    assert shown is not None and shown.owner is view
    assert tuple(shown.rect) == (0, 0, 64, 64)
    controls.toggle.setChecked(False)
    assert window.canvas.result_preview.shown is None


def test_live_without_a_model_says_why_and_turns_off(window):
    panel = window.generate_panel
    panel.set_models([])
    panel.live.toggle.setChecked(True)
    assert not panel.live.toggle.isChecked()
    assert not panel.live.session.active
    assert "Choose a model first" in panel.live.note.text()


def test_a_model_that_fails_to_load_pauses_live_and_leaves_the_painting(
        window, studio, qtbot, tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    panel = window.generate_panel
    panel.set_models([identify(broken)])
    doc = window.doc
    before = doc.composite().copy()
    panel.live.toggle.setChecked(True)
    qtbot.waitUntil(lambda: bool(panel.live.session.paused), timeout=30000)
    assert "Live paused" in panel.live.note.text()
    assert np.array_equal(doc.composite(), before)
    stroke(window.canvas, 20)  # painting goes on; no run starts while paused
    assert len(live_jobs(studio)) == 1
    assert panel.live.toggle.isChecked()


def test_running_out_of_memory_pauses_live_with_the_message(window, studio, qtbot):
    controls = window.generate_panel.live

    def out_of_memory(params, progress, cancel):
        raise MemoryError()

    controls.session.run_fn = out_of_memory
    controls.toggle.setChecked(True)
    qtbot.waitUntil(lambda: bool(controls.session.paused), timeout=30000)
    assert "Out of memory" in controls.note.text()
    assert "Out of memory" in window.live_view.status.text()
