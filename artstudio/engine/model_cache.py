"""Keeps loaded models between jobs, evicting the least recently used ones
when a memory budget would be exceeded.

A model a running job fetched is held until the job ends (`holding_models`,
which the engine wraps around every job): evicting it would free nothing (the
job still references it) and the next job would load it again. So a budget
lowered mid-job, or a second model the job needs, may run over the budget
until the job ends; then the cache shrinks back within it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from artstudio.engine.devices import empty_device_caches

log = logging.getLogger(__name__)
T = TypeVar("T")


def estimate_size(obj: Any) -> int:
    """Bytes held by a model: torch modules, diffusers pipelines (their
    components), numpy arrays, or 0 for what cannot be measured."""
    if hasattr(obj, "parameters") and callable(obj.parameters):
        total = sum(p.numel() * p.element_size() for p in obj.parameters())
        if hasattr(obj, "buffers"):
            total += sum(b.numel() * b.element_size() for b in obj.buffers())
        return total
    components = getattr(obj, "components", None)
    if isinstance(components, dict):
        return sum(estimate_size(c) for c in components.values() if c is not None)
    nbytes = getattr(obj, "nbytes", None)
    return int(nbytes) if isinstance(nbytes, int) else 0


@dataclass
class _Entry:
    value: Any
    size: int


class ModelCache:
    def __init__(self, budget_bytes: int):
        self._budget = int(budget_bytes)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.RLock()
        self._loading: dict[Hashable, threading.Lock] = {}
        self._pins: Counter[Hashable] = Counter()  # jobs holding each key

    def held(self) -> list[Hashable]:
        """Keys a running job holds (never evicted until it ends)."""
        with self._lock:
            return [key for key, n in self._pins.items() if n > 0]

    @property
    def budget_bytes(self) -> int:
        return self._budget

    def set_budget(self, budget_bytes: int) -> None:
        with self._lock:
            self._budget = int(budget_bytes)
            self._evict_locked(0)

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def keys(self) -> list[Hashable]:
        """Most recently used last."""
        with self._lock:
            return list(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def get(
        self,
        key: Hashable,
        loader: Callable[[], T],
        size_of: Callable[[T], int] = estimate_size,
    ) -> T:
        """Return the cached model for `key`, loading it on a miss. Two jobs
        asking for the same key at once load it only once."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self._hold_locked(key)
                return entry.value
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    self._hold_locked(key)
                    return entry.value
            value = loader()
            size = int(size_of(value))
            with self._lock:
                self._evict_locked(size)
                self._entries[key] = _Entry(value, size)
                self._loading.pop(key, None)
                self._hold_locked(key)
            log.info("model cache: loaded %s (%.1f MB), %.1f MB in use", key, size / 2**20,
                     self.used_bytes / 2**20)
            return value

    def unload(self, key: Hashable) -> bool:
        with self._lock:
            removed = self._entries.pop(key, None) is not None
        if removed:
            self._release()
        return removed

    def unload_all(self) -> int:
        """Unload every model no running job holds; returns how many stay loaded
        because a job holds them (they go when it ends, if over the budget)."""
        with self._lock:
            kept = {k: e for k, e in self._entries.items() if self._pins[k] > 0}
            self._entries = OrderedDict(kept)
        self._release()
        return len(kept)

    def _hold_locked(self, key: Hashable) -> None:
        scope = getattr(_job_scope, "held", None)
        if scope is not None and (self, key) not in scope:
            scope.append((self, key))
            self._pins[key] += 1

    def _let_go(self, key: Hashable) -> None:
        with self._lock:
            self._pins[key] -= 1
            if self._pins[key] <= 0:
                del self._pins[key]
            self._evict_locked(0)

    def _evict_locked(self, incoming: int) -> None:
        evicted = False
        used = sum(e.size for e in self._entries.values())
        for key in [k for k in self._entries if self._pins[k] <= 0]:  # least recent first
            if used + incoming <= self._budget:
                break
            entry = self._entries.pop(key)
            used -= entry.size
            evicted = True
            log.info("model cache: evicted %s (%.1f MB)", key, entry.size / 2**20)
        if used + incoming > self._budget and self._pins:
            log.info("model cache: %.1f MB over the budget until a running job ends",
                     (used + incoming - self._budget) / 2**20)
        if evicted:
            self._release()

    @staticmethod
    def _release() -> None:
        gc.collect()
        empty_device_caches()


_job_scope = threading.local()


@contextmanager
def holding_models() -> Iterator[None]:
    """Every model fetched from any cache on this thread inside the block is held
    (not evicted) until the block ends. The engine runs each job inside one."""
    outer = getattr(_job_scope, "held", None)
    if outer is not None:  # nested: the outer block holds them already
        yield
        return
    _job_scope.held = []
    try:
        yield
    finally:
        held, _job_scope.held = _job_scope.held, None
        for cache, key in held:
            cache._let_go(key)


_shared: ModelCache | None = None
_shared_lock = threading.Lock()


def shared_cache() -> ModelCache:
    """The one cache every model kind uses (diffusion pipelines, style
    networks, CycleGAN generators), so one memory budget covers them all.
    Without an app to size it, the budget is half the RAM."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from artstudio.engine.devices import total_memory_bytes

            _shared = ModelCache(budget_bytes=total_memory_bytes() // 2)
        return _shared


def set_shared_cache(cache: ModelCache) -> None:
    """The app installs its cache (sized from Settings) at start."""
    global _shared
    with _shared_lock:
        _shared = cache
