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

