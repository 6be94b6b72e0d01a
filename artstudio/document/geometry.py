"""Integer rectangles in document pixels, and the tile grid history and the
composite cache share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

TILE = 64
"""Side of the square tiles that undo patches are cut into."""


class Rect(NamedTuple):
    """A pixel rectangle: left, top, width, height. Empty when w or h <= 0."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    @property
    def area(self) -> int:
        return 0 if self.empty else self.w * self.h

    @classmethod
    def from_edges(cls, left: int, top: int, right: int, bottom: int) -> Rect:
        return cls(left, top, right - left, bottom - top)

    def intersect(self, other: Rect) -> Rect:
        left, top = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        if right <= left or bottom <= top:
            return Rect(left, top, 0, 0)
        return Rect.from_edges(left, top, right, bottom)

    def union(self, other: Rect) -> Rect:
        if self.empty:
            return other
        if other.empty:
            return self
        return Rect.from_edges(min(self.x, other.x), min(self.y, other.y),
                               max(self.right, other.right), max(self.bottom, other.bottom))

    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def contains(self, other: Rect) -> bool:
        return (other.x >= self.x and other.y >= self.y
                and other.right <= self.right and other.bottom <= self.bottom)

    def slices(self) -> tuple[slice, slice]:
        """Row and column slices for indexing an array laid out like this rect's space."""
        return slice(self.y, self.bottom), slice(self.x, self.right)


def tiles_in(rect: Rect, tile: int = TILE) -> Iterator[tuple[int, int]]:
    """(tile_x, tile_y) indices of every tile that `rect` touches (rect must be non-negative)."""
    if rect.empty:
        return
    for ty in range(rect.y // tile, (rect.bottom - 1) // tile + 1):
        for tx in range(rect.x // tile, (rect.right - 1) // tile + 1):
            yield tx, ty


def tile_rect(tx: int, ty: int, width: int, height: int, tile: int = TILE) -> Rect:
    """The tile's rectangle clipped to an array of `width` x `height`."""
    return Rect(tx * tile, ty * tile, tile, tile).intersect(Rect(0, 0, width, height))
