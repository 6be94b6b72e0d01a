"""Keeps loaded models between jobs, evicting the least recently used ones
when a memory budget would be exceeded."""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
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
                return entry.value
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    return entry.value
            value = loader()
            size = int(size_of(value))
            with self._lock:
                self._evict_locked(size)
                self._entries[key] = _Entry(value, size)
                self._loading.pop(key, None)
            log.info("model cache: loaded %s (%.1f MB), %.1f MB in use", key, size / 2**20,
                     self.used_bytes / 2**20)
            return value

    def unload(self, key: Hashable) -> bool:
        with self._lock:
            removed = self._entries.pop(key, None) is not None
        if removed:
            self._release()
        return removed

    def unload_all(self) -> None:
        with self._lock:
            self._entries.clear()
        self._release()

    def _evict_locked(self, incoming: int) -> None:
        evicted = False
        used = sum(e.size for e in self._entries.values())
        while self._entries and used + incoming > self._budget:
            key, entry = self._entries.popitem(last=False)
            used -= entry.size
            evicted = True
            log.info("model cache: evicted %s (%.1f MB)", key, entry.size / 2**20)
        if evicted:
            self._release()

    @staticmethod
    def _release() -> None:
        gc.collect()
        empty_device_caches()


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
