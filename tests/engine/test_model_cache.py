"""The model cache keeps models between jobs and evicts the least recently used."""

from __future__ import annotations

import threading
import time

import numpy as np

from artstudio.engine.model_cache import ModelCache, estimate_size

MB = 2**20


def loader(name, size_mb, calls):
    def load():
        calls.append(name)
        return np.zeros(size_mb * MB, dtype=np.uint8)

    return load


def test_second_get_does_not_reload():
    cache = ModelCache(100 * MB)
    calls = []
    a1 = cache.get("a", loader("a", 10, calls))
    a2 = cache.get("a", loader("a", 10, calls))
    assert a1 is a2 and calls == ["a"]
    assert cache.used_bytes == 10 * MB


def test_least_recently_used_is_evicted_first():
    cache = ModelCache(25 * MB)
    calls = []
    cache.get("a", loader("a", 10, calls))
    cache.get("b", loader("b", 10, calls))
    cache.get("a", loader("a", 10, calls))  # a is now the most recent
    cache.get("c", loader("c", 10, calls))  # 30 MB > 25: b must go
    assert cache.keys() == ["a", "c"]
    assert "b" not in cache
    assert cache.used_bytes == 20 * MB


def test_model_bigger_than_budget_still_loads_alone():
    cache = ModelCache(5 * MB)
    calls = []
    cache.get("a", loader("a", 2, calls))
    big = cache.get("big", loader("big", 8, calls))
    assert big.nbytes == 8 * MB and cache.keys() == ["big"]


def test_unload_all_and_lower_budget():
    cache = ModelCache(100 * MB)
    calls = []
    for name in "abc":
        cache.get(name, loader(name, 10, calls))
    cache.set_budget(15 * MB)
    assert cache.keys() == ["c"]
    cache.unload_all()
    assert cache.keys() == [] and cache.used_bytes == 0


def test_concurrent_requests_load_once():
    cache = ModelCache(100 * MB)
    calls = []

    def slow_load():
        calls.append(1)
        time.sleep(0.1)
        return np.zeros(MB, dtype=np.uint8)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("m", slow_load)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert all(r is results[0] for r in results)


def test_estimate_size_of_torch_module():
    import torch

    layer = torch.nn.Linear(100, 10)  # 1010 float32 parameters
    assert estimate_size(layer) == 1010 * 4
    assert estimate_size(object()) == 0


def test_every_model_kind_shares_the_apps_cache():
    from artstudio.engine.model_cache import set_shared_cache, shared_cache
    from artstudio.style import onnx_runtime as style_runtime

    mine = ModelCache(64 * MB)
    previous = shared_cache()
    set_shared_cache(mine)
    try:
        style_runtime.session(style_runtime.MULTISTYLE, "cpu")
        loaded = mine.keys()
        assert any("multistyle" in str(key) for key in loaded)
    finally:
        set_shared_cache(previous)
