"""Help > Keyboard Shortcuts: the list is read from the window's actions, so a
shortcut is written once, where its action is made, and the list cannot go stale."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from artstudio.ui.tables import text_table


@dataclass(frozen=True)
class ShortcutRow:
    group: str  # the menu or tool bar the command is in
    command: str
    keys: str  # every shortcut of the command, in the platform's words


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def _row(group: str, action: QAction) -> ShortcutRow | None:
    keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
    keys = [k for k in keys if k]
    if not keys:
        return None
    where = " (on the canvas)" if action.shortcutContext() == Qt.ShortcutContext.WidgetShortcut \
        else ""
    return ShortcutRow(group, _plain(action.text()) + where, ", ".join(keys))


def _menu_rows(group: str, menu: QMenu) -> list[ShortcutRow]:
    rows = []
    for action in menu.actions():
        if action.menu() is not None:
            rows += _menu_rows(f"{group} > {_plain(action.text())}", action.menu())
        elif (row := _row(group, action)) is not None:
            rows.append(row)
    return rows


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every command of the menus and tool bars that has a shortcut, in menu order."""
    rows = []
    for action in window.menuBar().actions():
        if action.menu() is not None:
            rows += _menu_rows(_plain(action.text()), action.menu())
    for bar in window.findChildren(QToolBar):
        rows += [row for a in bar.actions() if (row := _row(_plain(bar.windowTitle()), a))]
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = text_table(["Menu", "Command", "Shortcut"],
                                [(row.group, row.command, row.keys) for row in rows])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 640)
