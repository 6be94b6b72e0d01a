from __future__ import annotations

import pytest

from artstudio.ui.application import StudioApplication


@pytest.fixture
def studio(qapp):
    """The whole app (settings, engine, bridge, window), not shown, closed after."""
    app = StudioApplication(qapp, show=False)
    yield app
    app.close()
