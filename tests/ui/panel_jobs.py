"""Running the Generate panel's job to its end, for the UI tests."""

from __future__ import annotations

from artstudio.engine import JobState


def generate_and_wait(panel, qtbot, timeout_ms: int = 300000) -> None:
    """The panel's generation, done, its results in the tray."""
    handle = panel.generate()
    assert handle is not None, panel.status.text()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=timeout_ms)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: panel._job is None and len(panel.results) > 0, timeout=5000)
