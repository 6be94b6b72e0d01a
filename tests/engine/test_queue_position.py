"""A queued job knows how many jobs it waits behind (issue 11, item 15)."""

from __future__ import annotations

import threading

from artstudio.engine import Engine, JobState, Lane
from artstudio.engine.jobs import waiting_text


def test_jobs_on_the_accelerator_wait_behind_the_running_one_and_those_before():
    engine = Engine(pool_workers=2)
    gate, started = threading.Event(), threading.Event()

    def long(params, progress, cancel):
        started.set()
        gate.wait(10)

    def quick(params, progress, cancel):
        return params

    try:
        first = engine.submit(long, lane=Lane.ACCELERATOR)
        assert started.wait(10)
        second = engine.submit(quick, 2, lane=Lane.ACCELERATOR)
        third = engine.submit(quick, 3, lane=Lane.ACCELERATOR)
        assert [engine.jobs_ahead(h.id) for h in (first, second, third)] == [0, 1, 2]
        assert engine.jobs_ahead(engine.submit(quick, 4, lane=Lane.POOL).id) == 0  # idle pool
        third.cancel()
        assert engine.jobs_ahead(second.id) == 1
        gate.set()
        assert second.wait(10) is JobState.DONE and engine.jobs_ahead(second.id) == 0
    finally:
        gate.set()
        engine.shutdown(timeout=5)


def test_the_words_for_waiting():
    assert waiting_text(0) == "Starting…"
    assert waiting_text(1) == "Queued behind 1 job"
    assert waiting_text(3) == "Queued behind 3 jobs"
