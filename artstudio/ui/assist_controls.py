"""The assists in the Generate panel: Describe and Expand beside the prompt,
Tileable, and "show the best K" of the images made, ranked by CLIP. Every
model runs on the engine's pool lane (artstudio.assists' jobs), never on
the GUI thread and never holding the generation lane; nothing replaces the
artist's prompt or results without the artist choosing it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from artstudio.assists import best_of, describe, expand
from artstudio.assists.tileable import family_reason, tiled
from artstudio.engine import Lane, RequestRefused
from artstudio.settings import remember_folder, start_folder
from artstudio.ui.images import pil_to_pixmap, rgba_over_white

IMAGES = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
TILES_SIDE = 768  # pixels: the tiled preview's longer side at most (never enlarged)
SOURCES = {"frame": "The frame", "layer": "The active layer", "file": "A file…"}


class AssistControls:
    """The widgets and their jobs; the panel places the widgets."""

    def __init__(self, panel):
        self.panel = panel
        self._offered: expand.Expansion | None = None  # shown beside the artist's prompt
        self._expanded: expand.Expansion | None = None  # the one the artist took
        self._hidden: list = []  # ranked candidates beyond the best K

        self.describe_button = QToolButton()
        self.describe_button.setText("Describe")
        self.describe_button.setObjectName("describeButton")
        self.describe_button.setToolTip("A caption of a picture, from a local captioning "
                                        "model, in the prompt box for editing")
        self.describe_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.describe_button)
        for source, label in SOURCES.items():
            menu.addAction(label, lambda s=source: self.describe(s))
        menu.addSeparator()
        self.as_tags = menu.addAction("As tags (anime-family models)")
        self.as_tags.setCheckable(True)
        self.describe_button.setMenu(menu)
        self.expand_button = QPushButton("Expand")
        self.expand_button.setObjectName("expandButton")
        self.expand_button.setToolTip("A local language model rewrites the prompt in detail; "
                                      "you see both and choose")
        self.expand_button.clicked.connect(self.expand)

        # Both prompts side by side until the artist picks one.
        self.choice = QWidget()
        self.choice.setObjectName("expansionChoice")
        self.original_label, self.expanded_label = QLabel(), QLabel()
        for label in (self.original_label, self.expanded_label):
            label.setWordWrap(True)
        self.use_button = QPushButton("Use the expansion")
        self.use_button.clicked.connect(self.use_expansion)
        keep = QPushButton("Keep mine")
        keep.clicked.connect(self.choice.hide)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(keep)
        column = QVBoxLayout(self.choice)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.original_label)
        column.addWidget(self.expanded_label)
        column.addLayout(buttons)
        self.choice.hide()

        self.tileable = QCheckBox("Tileable")
        self.tileable.setObjectName("tileable")
        self.best = QSpinBox()
        self.best.setObjectName("showBest")
        self.best.setRange(0, 64)
        self.best.setPrefix("best ")
        self.best.setSpecialValueText("all")
        self.best.setToolTip("Generate N, show the best K: the tray ordered by CLIP "
                             "similarity to the prompt, the score on each thumbnail")
        self.tiles_button = QToolButton()
        self.tiles_button.setText("3×3")
        self.tiles_button.setObjectName("tiledPreview")
        self.tiles_button.setToolTip("The selected tileable result laid 3×3, to check its seams")
        self.tiles_button.clicked.connect(self.show_tiles)
        self.tiles_button.setEnabled(False)
        panel.results.selection_changed.connect(lambda _index: self._selection_changed())
        self.tiles_dialog: QDialog | None = None
        # One row under the prompt, so the panel grows by one line.
        self.row = QHBoxLayout()
        for widget in (self.describe_button, self.expand_button, self.tileable,
                       self.tiles_button):
            self.row.addWidget(widget)
        self.row.addStretch(1)
        self.row.addWidget(QLabel("Show"))
        self.row.addWidget(self.best)
        self.show_all = QPushButton("Show all")
        self.show_all.setObjectName("showAllRanked")
        self.show_all.setToolTip("Show the ranked images beyond the best, in rank order")
        self.show_all.clicked.connect(self.show_the_rest)
        self.show_all.hide()

    # ---- what a generation request takes from here ----------------------
    def family_changed(self, spec) -> None:
        reason = family_reason(spec)
        self.tileable.setEnabled(reason is None)
        self.tileable.setToolTip(reason or "Circular padding in the denoiser and the VAE: "
                                           "the picture wraps left-right and top-bottom")
        if reason:
            self.tileable.setChecked(False)

    def apply_settings(self, settings: dict) -> None:
        """A restored preset, history entry or PNG says whether it tiled."""
        if settings.get("tileable") is not None and self.tileable.isEnabled():
            self.tileable.setChecked(bool(settings["tileable"]))

    def request_fields(self, prompt: str) -> dict:
        taken = self._expanded
        original = taken.original if taken is not None and taken.expanded == prompt else ""
        return {"tileable": self.tileable.isEnabled() and self.tileable.isChecked(),
                "original_prompt": original}

    # ---- Describe and Expand ----------------------------------------------
    def _seed(self) -> int:
        return max(0, int(self.panel.seed.value()))

    def describe(self, source: str, path: Path | None = None):
        panel = self.panel
        try:
            image = self._picture(source, path)
        except RequestRefused as refusal:
            panel.status.setText(str(refusal))
            return None
        if image is None:
            return None
        request = describe.DescribeRequest(image, self._seed(), self.as_tags.isChecked())
        panel.status.setText("Describing…")
        return panel.runner.run(describe.describe_job, request, title="Describe",
                                lane=Lane.POOL, on_done=self._described,
                                on_failed=panel.status.setText)

    def _picture(self, source: str, path: Path | None):
        doc = self.panel.doc
        if source == "file":
            if path is None:
                settings = self.panel.settings
                name, _ = QFileDialog.getOpenFileName(
                    self.panel, "Picture to describe", str(start_folder(settings, "images")),
                    IMAGES)
                if not name:
                    return None
                path = Path(name)
                remember_folder(settings, "images", path)
            return str(path)  # read on the pool
        if doc is None:
            raise RequestRefused("Open or create a document first")
        if source == "layer":
            layer = doc.active_layer
            if layer is None:
                raise RequestRefused("There is no layer to describe")
            return rgba_over_white(layer.pixels.copy())
        return rgba_over_white(doc.composite(self.panel._frame()))

    def _described(self, caption: str) -> None:
        self.panel.prompt.setPlainText(caption)
        self.panel.status.setText("Described: edit the prompt as you like")

    def expand(self):
        panel = self.panel
        prompt = panel.prompt.toPlainText().strip()
        if not prompt:
            panel.status.setText("Write a short prompt first; Expand rewrites it.")
            return None
        panel.status.setText("Expanding…")
        return panel.runner.run(expand.expand_job, expand.ExpandRequest(prompt, self._seed()),
                                title="Expand", lane=Lane.POOL, on_done=self._expansion_came,
                                on_failed=panel.status.setText)

    def _expansion_came(self, expansion: expand.Expansion) -> None:
        self._offered = expansion
        self.original_label.setText(f"Yours: {expansion.original}")
        self.expanded_label.setText(f"Expanded by {expansion.model}: {expansion.expanded}")
        self.choice.show()
        self.panel.status.setText(" ".join(("Pick a prompt.", *expansion.notes)))

    def use_expansion(self) -> None:
        self._expanded = self._offered
        self.panel.prompt.setPlainText(self._offered.expanded)
        self.choice.hide()

    # ---- best of N ----------------------------------------------------------
    def rank(self, candidates: list, prompt: str):
        """After the images landed in the tray: score them on the pool and show
        the best K first; None when no ranking was asked."""
        k = self.best.value()
        if not k or len(candidates) < 2:
            return None
        request = best_of.ScoreRequest(tuple(c.image for c in candidates), prompt)
        return self.panel.runner.run(
            best_of.score_job, request, title="Rank by CLIP", lane=Lane.POOL,
            on_done=lambda ranking: self._ranked(candidates, ranking, k),
            on_failed=self.panel.status.setText)

    def _ranked(self, candidates: list, ranking: best_of.Ranking, k: int) -> None:
        shown, self._hidden = best_of.ranked_candidates(candidates, ranking, k)
        best_of.restage(self.panel.results, candidates, shown)
        self.show_all.setVisible(bool(self._hidden))
        self.panel.status.setText(f"The best {len(shown)} of {len(candidates)} by "
                                  f"{ranking.model}; Show all for the rest")

    def _selection_changed(self) -> None:
        current = self.panel.results.current
        self.tiles_button.setEnabled(bool(current and current.params.get("tileable")))

    def show_tiles(self) -> QDialog | None:
        current = self.panel.results.current
        if current is None:
            return None
        if self.tiles_dialog is None:
            self.tiles_dialog = QDialog(self.panel)
            self.tiles_dialog.setWindowTitle("Tiled 3×3")
            self.tiles_label = QLabel()
            QVBoxLayout(self.tiles_dialog).addWidget(self.tiles_label)
        grid = tiled(np.asarray(current.image.convert("RGB")))
        self.tiles_label.setPixmap(pil_to_pixmap(grid, min(TILES_SIDE, max(grid.shape[:2]))))
        self.tiles_dialog.show()
        return self.tiles_dialog

    def show_the_rest(self) -> None:
        for candidate in self._hidden:
            self.panel.results.add(candidate)
        self._hidden = []
        self.show_all.hide()
