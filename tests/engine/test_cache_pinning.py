"""A model a running job holds is never evicted (issue 11, item 14)."""

from __future__ import annotations

import threading

import numpy as np

from artstudio.engine import Engine, JobState, Lane
from artstudio.engine.model_cache import ModelCache, holding_models

MB = 2**20


def model(mb: int) -> np.ndarray:
    return np.zeros(mb * MB, np.uint8)


def test_lowering_the_budget_mid_job_keeps_the_jobs_model_then_shrinks():
    cache = ModelCache(100 * MB)
    engine = Engine(pool_workers=1)
    loaded, gate = threading.Event(), threading.Event()
    loads = []

    def job(params, progress, cancel):
        first = cache.get("sd", lambda: loads.append("sd") or model(60))
        loaded.set()
        gate.wait(10)
        # The job asks again for its model later (a second image of the batch).
        again = cache.get("sd", lambda: loads.append("sd") or model(60))
        return again is first

    try:
        handle = engine.submit(job, None, title="generate", lane=Lane.POOL)
        assert loaded.wait(10)
        cache.set_budget(10 * MB)  # the artist lowers the budget in Settings meanwhile
        assert "sd" in cache and cache.held() == ["sd"]
        gate.set()
        assert handle.wait(10) is JobState.DONE
        assert handle.result is True and loads == ["sd"]  # loaded once, never reloaded
        assert "sd" not in cache and cache.used_bytes == 0  # within the budget once it ended
        assert cache.held() == []
    finally:
        gate.set()
        engine.shutdown(timeout=5)


def test_a_second_model_in_the_same_job_does_not_evict_the_first():
    cache = ModelCache(100 * MB)
    with holding_models():
        cache.get("base", lambda: model(60))
        cache.get("refiner", lambda: model(60))
        assert cache.keys() == ["base", "refiner"]  # over the budget while the job runs
    assert cache.keys() == ["refiner"]  # the least recently used goes when it ends


def test_another_jobs_load_evicts_only_what_nobody_holds():
    cache = ModelCache(100 * MB)
    cache.get("idle", lambda: model(30))
    held, done = threading.Event(), threading.Event()

    def holder():
        with holding_models():
            cache.get("busy", lambda: model(40))
            held.set()
            done.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        cache.get("new", lambda: model(50))  # on another thread, outside any job
        assert set(cache.keys()) == {"busy", "new"}
        assert cache.unload_all() == 1 and cache.keys() == ["busy"]
    finally:
        done.set()
        thread.join(10)
    assert cache.held() == []


def test_outside_a_job_nothing_is_held():
    cache = ModelCache(100 * MB)
    cache.get("a", lambda: model(60))
    cache.get("b", lambda: model(60))
    assert cache.keys() == ["b"] and cache.held() == []
