"""A journey's frames kept on disk as they arrive, for the window.

The window shows a strip of thumbnails while a journey runs, and later sends
one frame or all of them to the canvas, or exports them. Holding every frame
in memory would grow with the journey (2000 frames of 512 px are 1.5 GB), so
each frame is written as a PNG (with its parameters) into a private temporary
folder on the worker that made it, and read back when it is wanted. The
folder goes when the store is closed or dropped.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from artstudio.diffusion.metadata import png_info
from artstudio.interpolation.frames import Frame

FRAME_NAME = "frame_{:04d}.png"


class FrameStore:
    """The frames of one journey: `add` on the worker, `frame`, iteration and
    `len` on any thread. `planned` is how many frames the journey asked for;
    `cancelled` is set when it stopped early."""

    def __init__(self, planned: int, folder: Path | None = None) -> None:
        self.planned = planned
        self.cancelled = False
        self.folder = Path(tempfile.mkdtemp(prefix="artstudio-journey-", dir=folder))
        self._params: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def add(self, frame: Frame) -> int:
        """Keep `frame` (the journey's next one); its position in the store."""
        with self._lock:
            position = len(self._params)
        image = frame.image if frame.image.mode == "RGB" else frame.image.convert("RGB")
        # compress_level 1: the spool is read back once or twice, speed matters more than size
        image.save(self._path(position), format="PNG",
                   pnginfo=png_info(frame.params) if frame.params else None, compress_level=1)
        with self._lock:
            self._params.append(dict(frame.params))
        return position

    def __len__(self) -> int:
        with self._lock:
            return len(self._params)

    @property
    def complete(self) -> bool:
        return len(self) == self.planned and not self.cancelled

    def frame(self, position: int) -> Frame:
        with self._lock:
            if not 0 <= position < len(self._params):
                raise IndexError(f"frame {position} is not in the journey ({len(self._params)} "
                                 "frames)")
            params = self._params[position]
        with Image.open(self._path(position)) as image:
            return Frame(position, image.convert("RGB"), dict(params))

    def __iter__(self) -> Iterator[Frame]:
        """The frames stored when iteration reaches them, one at a time."""
        position = 0
        while position < len(self):
            yield self.frame(position)
            position += 1

    def close(self) -> None:
        """Remove the frames from disk."""
        self._cleanup()

    def describe(self) -> str:
        """How many frames the journey holds, for the artist."""
        count = len(self)
        if self.cancelled:
            return f"{count} of {self.planned} frames (the journey was cancelled)"
        return f"{count} frame{'' if count == 1 else 's'}"

    def _path(self, position: int) -> Path:
        return self.folder / FRAME_NAME.format(position)
