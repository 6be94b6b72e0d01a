"""Cooperative cancellation: a flag that a running job checks at every step."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside a job when it notices that cancellation was requested."""


class CancelToken:
    """A thread-safe flag set by the GUI thread and polled by the worker."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def __bool__(self) -> bool:  # `if cancel:` reads naturally in a step loop
        return self._event.is_set()
