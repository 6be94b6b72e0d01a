"""A read-only table of text rows, as the Help dialogs show them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem


def text_table(headers: Sequence[str], rows: Sequence[Iterable[str]]) -> QTableWidget:
    """`rows` of cells under `headers`, not editable; the columns fit their
    text and the last takes the rest of the width. A cell's tooltip repeats
    it, for text the column cuts."""
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = QTableWidgetItem(text)
            cell.setToolTip(text)
            table.setItem(r, c, cell)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table
