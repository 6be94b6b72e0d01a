"""Results previewed on the canvas before they are applied (issue 11, item 2),
and the live preview cleared on Cancel (issue 11, item 7)."""

from __future__ import annotations

import pytest

from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.model_files.identify import identify


@pytest.fixture(scope="module")
def tiny_sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("models"), kinds=("sd1",))["sd1"]


def test_live_preview_is_cleared_on_cancel(studio, tiny_sd1, qtbot):
    panel = studio.window.generate_panel
    panel.set_models([identify(tiny_sd1["diffusers"])])
    studio.window.documents.set_document(new_document(64, 64))
    panel.prompt.setPlainText("slow")
    panel.steps.setValue(150)
    handle = panel.generate()
    assert handle is not None, panel.status.text()
    qtbot.waitUntil(lambda: not panel.preview.pixmap().isNull(), timeout=60000)
    panel.cancel()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    assert handle.state is JobState.CANCELLED
    qtbot.waitUntil(lambda: panel.status.text() == "Cancelled", timeout=5000)
    assert panel.preview.pixmap().isNull()
