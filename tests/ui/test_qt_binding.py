"""Guards against a broken Qt binding: PySide6 6.12.0 drops a reference to
None on each call of a void Qt method, which aborts Python 3.11 after a few
thousand canvas updates ("none_dealloc: deallocating None")."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QWidget


def test_void_qt_calls_keep_none_alive(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.update()
        widget.update(QRect(0, 0, 4, 4))
        widget.setMinimumWidth(3)
        timer.setInterval(5)
    assert sys.getrefcount(None) >= before - 50  # a leak here loses 8000
