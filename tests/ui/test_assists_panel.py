"""The assists in the Generate panel, through the engine with tiny random
models kept where an artist keeps them (the models folder's clip/,
captioners/ and lm/)."""

from __future__ import annotations

import numpy as np
import pytest
from panel_jobs import generate_and_wait
from PIL import Image
from PySide6.QtWidgets import QLabel

from artstudio.assists import describe, expand
from artstudio.document.create import new_document
from artstudio.engine import JobState, Lane
from artstudio.engine.cancel import CancelToken
from artstudio.model_files.identify import identify


def quiet(*_args, **_kwargs):
    return None


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tiny_assists import save_tiny_captioner, save_tiny_clip, save_tiny_lm
    from tiny_pipelines import save_tiny_flux, save_tiny_models

    root = tmp_path_factory.mktemp("assist-models")
    return {"sd1": save_tiny_models(root / "sd", kinds=("sd1",))["sd1"]["diffusers"],
            "flux": save_tiny_flux(root / "flux", ("flux-schnell",))["flux-schnell"]
            ["diffusers"],
            "clip": save_tiny_clip(root / "clip"), "captioners": save_tiny_captioner(
                root / "blip"), "lm": save_tiny_lm(root / "gpt2")}


@pytest.fixture
def kept(models, monkeypatch, tmp_path):
    """keep("clip", ...): those tiny models in the models folder, as an artist keeps them."""
    from artstudio.paths import user_models_dir

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))

    def keep(*kinds: str) -> None:
        for kind in kinds:
            (user_models_dir() / kind).mkdir(parents=True, exist_ok=True)
            (user_models_dir() / kind / models[kind].name).symlink_to(models[kind])

    return keep


@pytest.fixture
def panel(studio, models):
    studio._probe_timer.stop()  # its model scan would replace the models set here
    panel = studio.window.generate_panel
    panel.set_models([identify(models["sd1"]), identify(models["flux"])])
    doc = new_document(64, 64)
    rng = np.random.default_rng(0)
    doc.active_layer.pixels[..., :3] = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    doc.active_layer.pixels[..., 3] = 255
    studio.window.documents.set_document(doc)
    panel.steps.setValue(2)
    panel.seed.setValue(7)
    panel.prompt.setPlainText("a red fox")
    return panel


def wait(handle, qtbot, runner) -> None:
    assert handle is not None
    qtbot.waitUntil(lambda: handle.state.finished, timeout=120000)
    assert handle.state is JobState.DONE, handle.error
    # on_done arrives through the GUI thread's queue, later under load
    qtbot.waitUntil(lambda: runner.delivered(handle), timeout=10000)


def test_describe_puts_a_seeded_caption_in_the_prompt_box(panel, kept, qtbot, models, tmp_path):
    kept("captioners")
    picture = panel.assists._picture("frame", None)
    wait(panel.assists.describe("frame"), qtbot, panel.runner)
    caption = describe.describe_job(describe.DescribeRequest(picture, 7), quiet, CancelToken())
    assert caption and panel.prompt.toPlainText() == caption
    panel.assists.as_tags.setChecked(True)
    wait(panel.assists.describe("layer"), qtbot, panel.runner)
    assert panel.prompt.toPlainText() == describe.as_tags(caption)  # the layer is the frame
    path = tmp_path / "picture.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(path)
    wait(panel.assists.describe("file", path), qtbot, panel.runner)
    assert panel.prompt.toPlainText() == describe.describe_job(
        describe.DescribeRequest(str(path), 7, True), quiet, CancelToken())


def test_describe_without_a_captioner_says_where_it_looked(panel, kept, qtbot):
    handle = panel.assists.describe("frame")
    qtbot.waitUntil(lambda: handle.state.finished, timeout=60000)
    qtbot.waitUntil(lambda: "captioners" in panel.status.text(), timeout=5000)
    assert "No image-captioning model was found" in panel.status.text()
    assert panel.prompt.toPlainText() == "a red fox"


def test_expand_shows_both_prompts_and_the_artist_picks(panel, kept, qtbot):
    kept("lm")
    wait(panel.assists.expand(), qtbot, panel.runner)
    expected = expand.expand_job(expand.ExpandRequest("a red fox", 7), quiet, CancelToken())
    assert panel.assists.choice.isVisibleTo(panel)
    assert "a red fox" in panel.assists.original_label.text()
    assert expected.expanded in panel.assists.expanded_label.text()
    assert panel.prompt.toPlainText() == "a red fox"  # nothing changes until the artist picks
    panel.assists.use_expansion()
    assert panel.prompt.toPlainText() == expected.expanded
    params, _target = panel.build_request()
    assert (params.prompt, params.original_prompt) == (expected.expanded, "a red fox")
    panel.prompt.setPlainText("my own words")  # edited afterwards: no longer the expansion
    assert panel.build_request()[0].original_prompt == ""
    assert [r.spec.lane for r in panel.runner.engine.jobs() if r.spec.title == "Expand"] == \
        [Lane.POOL]


def _saved(panel, folder):
    from artstudio.diffusion.metadata import save_png

    candidate = panel.results.current
    return save_png(candidate.image, folder / "tiled.png", candidate.params)


def test_tileable_is_offered_only_where_it_can_be_done(panel, qtbot, tmp_path):
    tileable = panel.assists.tileable
    panel.model.setCurrentIndex(1)  # FLUX.1 schnell: a transformer
    assert not tileable.isEnabled() and "UNet" in tileable.toolTip()
    panel.model.setCurrentIndex(0)
    assert tileable.isEnabled()
    tileable.setChecked(True)
    assert panel.build_request()[0].tileable is True
    assert not panel.assists.tiles_button.isEnabled()  # nothing tileable in the tray yet
    panel.width_box.setValue(64)
    panel.height_box.setValue(64)
    panel.match_frame.setChecked(False)
    generate_and_wait(panel, qtbot)
    assert panel.results.current.params["tileable"] is True
    assert panel.assists.tiles_button.isEnabled()
    dialog = panel.assists.show_tiles()
    grid = dialog.findChild(QLabel).pixmap().toImage()
    assert (grid.width(), grid.height()) == (192, 192)
    made = panel.results.current.image
    for x, y in ((0, 0), (70, 10), (130, 150)):
        colour = grid.pixelColor(x, y)
        assert (colour.red(), colour.green(), colour.blue()) == made.getpixel((x % 64, y % 64))
    dialog.close()
    panel.apply_settings({"tileable": False})
    assert not tileable.isChecked()
    assert panel.settings_from_png(_saved(panel, tmp_path))  # a tileable result's PNG, dropped
    assert tileable.isChecked()


def test_the_best_k_first_by_score_and_show_all(panel, kept, qtbot, studio):
    kept("clip")
    panel.count.setValue(4)
    panel.assists.best.setValue(2)
    generate_and_wait(panel, qtbot)
    made = [c.image for c in panel.results.candidates]
    qtbot.waitUntil(lambda: panel.assists.show_all.isVisibleTo(panel), timeout=120000)
    shown = panel.results.candidates
    scores = [c.params["clip_score"] for c in shown]
    assert len(shown) == 2 and scores == sorted(scores, reverse=True)
    assert [c.params["rank"] for c in shown] == [[1, 4], [2, 4]]
    assert all(any(c.image is m for m in made) for c in shown)  # the very images made
    assert f"{scores[0]:.1f}" in panel.tray.item(0).text()
    assert panel.results.selected == 0
    assert [r.spec.lane for r in studio.engine.jobs() if r.spec.title == "Rank by CLIP"] == \
        [Lane.POOL]
    panel.assists.show_all.click()
    every = [c.params["clip_score"] for c in panel.results.candidates]
    assert len(every) == 4 and every == sorted(every, reverse=True)
    assert not panel.assists.show_all.isVisibleTo(panel)


def test_without_clip_all_results_stay_with_a_note(panel, kept, qtbot):
    panel.count.setValue(2)
    panel.assists.best.setValue(1)
    generate_and_wait(panel, qtbot)
    qtbot.waitUntil(lambda: "No CLIP model was found" in panel.status.text(), timeout=60000)
    assert len(panel.results) == 2
