"""Turning exceptions from jobs into short messages an artist can act on."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose text is already written for the artist (bad file, wrong
    model kind, ...). The engine shows it verbatim, without a type name."""


class RequestRefused(UserFacingError):
    """A request that cannot start as it stands (no model chosen, an empty
    mask, a layer with nothing on it); the text says what to do instead."""


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    # torch.OutOfMemoryError (CUDA), MPS's RuntimeError "MPS backend out of memory", and
    # the CPU allocator's RuntimeError "DefaultCPUAllocator: can't allocate memory".
    name = type(exc).__name__
    text = str(exc).lower()
    return ("OutOfMemory" in name or "out of memory" in text
            or "can't allocate memory" in text or "cannot allocate memory" in text)


def describe_error(exc: BaseException, limit: int = 300) -> str:
    """A one-paragraph message for the UI; the traceback goes to the log."""
    if is_out_of_memory(exc):
        return (
            "Out of memory. Try a smaller image size or tile, fewer images per batch, "
            "or turn on model CPU offload in Settings."
        )
    if isinstance(exc, UserFacingError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        text = f"{exc.strerror}{where}"
    else:
        detail = str(exc).strip()
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
