"""One lock for building torch networks, across threads.

While diffusers loads a model it builds it on the meta device through
accelerate's `init_empty_weights`, which patches `torch.nn.Module` for the
whole process, not for its own thread (and skips weight initialisation the
same way). A network built on another thread meanwhile, a CycleGAN painter
or a spandrel upscaler for a pool job while a generation loads on the GPU
lane, gets parameters with no data ("Cannot copy out of meta tensor"). So
every place that builds or loads a network holds this lock; it is re-entrant,
and held only while building, never while a network runs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

NETWORK_BUILDING = threading.RLock()

F = TypeVar("F", bound=Callable)


def builds_networks(fn: F) -> F:
    """Run `fn` holding NETWORK_BUILDING."""

    @functools.wraps(fn)
    def holding(*args, **kwargs):
        with NETWORK_BUILDING:
            return fn(*args, **kwargs)

    return holding  # type: ignore[return-value]
