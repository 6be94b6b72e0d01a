from __future__ import annotations

import pytest

from artstudio.ui.application import StudioApplication
from artstudio.ui.canvas_view import CanvasView


@pytest.fixture
def studio(qapp):
    """The whole app (settings, engine, bridge, window), not shown, closed after."""
    app = StudioApplication(qapp, show=False)
    yield app
    app.close()


@pytest.fixture
def show_canvas(qtbot):
    """show_canvas(doc, width, height, zoom=1.0): a shown CanvasView on `doc`,
    panned so that document pixel (0, 0) is widget pixel (0, 0)."""
    from PySide6.QtCore import QPointF

    def show(doc, width: int, height: int, zoom: float = 1.0) -> CanvasView:
        view = CanvasView()
        view.resize(width, height)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        view.set_document(doc)
        view.set_zoom(zoom)
        view._pan = QPointF(0, 0)  # document pixel == widget pixel / zoom, for exact assertions
        return view

    return show


@pytest.fixture
def start_held_batch(monkeypatch):
    """start_held_batch(dialog, src, out) -> gate: starts the folder dialog's
    batch with a processor that holds its first image until gate.set()."""
    import threading

    def start(dialog, src, out) -> threading.Event:
        gate, started = threading.Event(), threading.Event()

        def held_factory(_options):
            def process(rgba):
                started.set()
                gate.wait(10)
                return rgba
            return lambda cancel: process

        monkeypatch.setattr(dialog, "_make_processor_factory", held_factory)
        dialog.input_edit.setText(str(src))
        dialog.output_edit.setText(str(out))
        dialog.start_button.click()
        assert started.wait(10)
        return gate

    return start



@pytest.fixture
def picture_folders(tmp_path):
    """(in, out): four random 56x40 pictures in `in`; `out` not made yet."""
    import numpy as np
    from PIL import Image

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(src / f"{i}.png")
    return src, out


@pytest.fixture
def style_dialog(qtbot):
    """A factory of shown StyleBatchDialogs, each on its own engine, closed after the test."""
    from artstudio.engine import Engine
    from artstudio.ui.batch_dialog import StyleBatchDialog
    from artstudio.ui.engine_bridge import EngineBridge
    from artstudio.ui.job_runner import JobRunner

    made = []

    def make(**kwargs):
        engine = Engine(pool_workers=1)
        bridge = EngineBridge(engine)
        dlg = StyleBatchDialog(JobRunner(bridge), **kwargs)
        qtbot.addWidget(dlg)
        dlg.show()
        made.append((dlg, bridge, engine))
        return dlg

    yield make
    for dlg, bridge, engine in made:
        dlg.close()
        bridge.detach()
        engine.shutdown()


@pytest.fixture
def dialog(style_dialog):
    """A shown StyleBatchDialog on its own engine."""
    return style_dialog()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """The tiny SD1 model and its inpainting one that the panel tests generate
    with, built once for the UI suite (generation never writes into them)."""
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("ui-models"), kinds=("sd1", "sd1-inpaint"))
