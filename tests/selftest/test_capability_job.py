"""Help > Run Self-Test runs each capability as an engine job."""

from __future__ import annotations

import pytest

from artstudio.selftest.runner import run_capability_job


def test_a_passing_capability_reports_its_detail_and_progress():
    steps = []
    detail = run_capability_job(("settings", "artstudio.selftest.foundation:check_settings"),
                                lambda *a: steps.append(a), None)
    assert detail and steps == [(0, 1, "settings"), (1, 1, "settings")]


def test_a_failing_capability_raises_with_its_detail():
    # json.loads given a folder fails the way a broken check does
    with pytest.raises(RuntimeError, match="TypeError"):
        run_capability_job(("broken", "json:loads"), lambda *a: None, None)
