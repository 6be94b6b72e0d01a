"""Did the document change while a job ran?

A job works on a snapshot taken on the GUI thread; by the time its result
comes back the artist may have painted on, closed the document or opened
another. `DocumentMark.of(doc)` remembers which document the snapshot came
from and its undo position; the result's owner then asks one question:

- `is_open(current)`: the marked document is still the open one (a result
  that adds a layer fits as long as its document is open), or
- `unchanged(current)`: it is open and nothing was done to it since (a
  result that replaces the document's content would undo newer strokes).

It holds the document weakly, so a pending job never keeps a closed
document's pixels alive.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from artstudio.document.document import Document


@dataclass(frozen=True)
class DocumentMark:
    """Which document a job started from (None: no document was open), and
    the undo position it had then."""

    _ref: weakref.ReferenceType[Document] | None
    position: int | None

    @classmethod
    def of(cls, doc: Document | None) -> DocumentMark:
        if doc is None:
            return cls(None, None)
        return cls(weakref.ref(doc), doc.history.position)

    @property
    def document(self) -> Document | None:
        """The marked document while it exists."""
        return self._ref() if self._ref is not None else None

    def is_open(self, current: Document | None) -> bool:
        """True when `current` (the open document) is the marked one."""
        return current is not None and self.document is current

    def unchanged(self, current: Document | None) -> bool:
        """True when the open document is the marked one and is as it was
        then (a redo or undo back to the same state counts as unchanged);
        with no document marked, True when none is open either."""
        if self._ref is None:
            return current is None
        return self.is_open(current) and current.history.position == self.position
