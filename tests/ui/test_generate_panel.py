"""The Generate panel, end to end through the engine with tiny random models."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.history import GenerationHistory, HistoryEntry
from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.model_files.identify import identify


@pytest.fixture
def panel(studio, tiny_models, qtbot):
    studio._probe_timer.stop()  # its late model scan would replace the models and the status
    panel = studio.window.generate_panel
    infos = [identify(tiny_models["sd1"]["diffusers"]),
             identify(tiny_models["sd1-inpaint"]["single"])]
    panel.set_models(infos)
    doc = new_document(96, 64)
    studio.window.documents.set_document(doc)
    panel.steps.setValue(2)
    panel.seed.setValue(42)
    return panel


def run_to_end(panel, qtbot, studio):
    handle = panel.generate()
    assert handle is not None, panel.status.text()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=60000)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: panel._job is None, timeout=5000)
    return handle


def test_text_to_image_lands_in_tray_then_applies_as_layer(panel, studio, qtbot):
    doc = panel.doc
    doc.set_frame(Rect(16, 8, 64, 48))
    panel.prompt.setPlainText("a small red boat")
    panel.count.setValue(2)
    run_to_end(panel, qtbot, studio)
    assert panel.tray.count() == 2
    assert [c.seed for c in panel.results.candidates] == [42, 43]
    layers_before = len(doc.layers)
    layer = panel.apply_selected()
    assert len(doc.layers) == layers_before + 1
    assert (layer.x, layer.y, layer.width, layer.height) == (16, 8, 64, 48)
    assert layer.generation["prompt"] == "a small red boat"
    assert layer.generation["seed"] == 43  # the selected (last) result
    assert doc.undo_label == "Apply generation"
    assert panel.history.entries[-1].seeds == [42, 43]


def test_empty_prompt_and_empty_mask_are_explained(panel, studio, qtbot):
    assert panel.generate() is None
    assert "needs a prompt" in panel.status.text()
    panel.mode.setCurrentIndex(panel.mode.findData("inpaint"))
    assert panel.generate() is None
    assert "mask is empty" in panel.status.text()


def test_inpaint_keeps_unmasked_pixels(panel, studio, qtbot):
    doc = panel.doc
    mask = np.zeros((64, 96), np.uint8)
    mask[20:44, 30:70] = 255
    doc.set_mask(mask)
    panel.mode.setCurrentIndex(panel.mode.findData("inpaint"))
    panel.model.setCurrentIndex(1)  # the 9-channel inpainting checkpoint
    panel.prompt.setPlainText("a window")
    run_to_end(panel, qtbot, studio)
    before = doc.composite().copy()
    layer = panel.apply_selected()
    result = layer.pixels
    assert result.shape == (64, 96, 4)
    outside = mask == 0
    assert not result[outside][:, 3].any()  # the layer holds only the repainted area
    assert np.array_equal(doc.composite()[outside], before[outside])


def test_outpaint_extends_canvas(panel, studio, qtbot):
    doc = panel.doc
    panel.mode.setCurrentIndex(panel.mode.findData("outpaint"))
    for box, value in zip(panel.outpaint_boxes, (16, 0, 32, 8), strict=True):
        box.setValue(value)
    panel.prompt.setPlainText("more sea")
    run_to_end(panel, qtbot, studio)
    layer = panel.apply_selected()
    assert doc.size == (96 + 48, 64 + 8)
    assert (layer.x, layer.y, layer.width, layer.height) == (0, 0, 144, 72)
    background = doc.layer(0)
    assert (background.x, background.y) == (16, 0)
    doc.undo()
    assert doc.size == (96, 64)


def test_erase_without_model(panel, studio, qtbot):
    doc = panel.doc
    mask = np.zeros((64, 96), np.uint8)
    mask[10:20, 10:20] = 255
    doc.set_mask(mask)
    panel.mode.setCurrentIndex(panel.mode.findData("erase"))
    run_to_end(panel, qtbot, studio)
    layer = panel.apply_selected()
    assert layer.pixels.shape == (64, 96, 4)


def test_cancel_mid_run(panel, studio, qtbot):
    panel.prompt.setPlainText("slow")
    panel.steps.setValue(150)
    handle = panel.generate()
    qtbot.waitUntil(lambda: handle.state is JobState.RUNNING, timeout=30000)
    panel.cancel()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    assert handle.state is JobState.CANCELLED
    qtbot.waitUntil(lambda: panel.status.text() == "Cancelled", timeout=5000)
    assert panel.tray.count() == 0


def test_dropped_png_restores_settings(panel, tmp_path):
    from PIL.PngImagePlugin import PngInfo

    path = tmp_path / "from-elsewhere.png"
    image = Image.new("RGB", (8, 8))

    info = PngInfo()
    info.add_text("parameters", "a castle on a hill\nNegative prompt: blurry\n"
                  "Steps: 33, Sampler: DPM++ 2M Karras, CFG scale: 5.5, Seed: 1234, "
                  "Size: 640x448, Model: tiny")
    image.save(path, pnginfo=info)
    assert panel.settings_from_png(path)
    assert panel.prompt.toPlainText() == "a castle on a hill"
    assert panel.negative.toPlainText() == "blurry"
    assert (panel.steps.value(), panel.cfg.value(), panel.seed.value()) == (33, 5.5, 1234)
    assert panel.sampler.currentData() == "dpmpp_2m_karras"
    assert (panel.width_box.value(), panel.height_box.value()) == (640, 448)


def test_history_is_searchable_and_survives_restart(tmp_path):
    history = GenerationHistory(tmp_path / "history.jsonl")
    history.add(HistoryEntry(1.0, {"prompt": "red fox in snow"}, "m", [1]))
    history.add(HistoryEntry(2.0, {"prompt": "blue whale"}, "m", [2]))
    (tmp_path / "history.jsonl").open("a").write("{broken line\n")
    again = GenerationHistory(tmp_path / "history.jsonl")
    assert [e.settings["prompt"] for e in again.search("fox")] == ["red fox in snow"]
    assert len(again.search("")) == 2


def test_download_button_fetches_then_rescans(panel, studio, qtbot, monkeypatch, tmp_path):
    import artstudio.model_files.hub as hub

    monkeypatch.setattr(hub, "download_model",
                        lambda repo, progress, cancel: progress(1, 1) or tmp_path)
    rescans = []
    monkeypatch.setattr(panel, "refresh_models", lambda: rescans.append(1))
    handle = panel.download("org/model")
    qtbot.waitUntil(lambda: rescans == [1], timeout=10000)
    assert handle.state is JobState.DONE
    assert panel.status.text() == "org/model downloaded"


def test_rescan_finds_models_and_taesd(studio, tiny_models, qtbot, monkeypatch, tmp_path):
    import shutil

    from diffusers import AutoencoderTiny

    folder = tmp_path / "my-models"
    shutil.copytree(tiny_models["sd1"]["diffusers"], folder / "my-sd1")
    AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8),
                    decoder_block_out_channels=(8, 8, 8, 8),
                    num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1),
                    ).save_pretrained(folder / "taesd")
    studio.settings.model_folders = [str(folder)]
    panel = studio.window.generate_panel
    panel.refresh_models()
    qtbot.waitUntil(lambda: panel.model.count() == 1, timeout=30000)
    info = panel.model.currentData()
    assert info.name == "my-sd1"
    assert panel._preview_decoder(info) == str(folder / "taesd")


def test_queued_jobs_keep_their_own_frames_and_documents(panel, studio, qtbot):
    doc = panel.doc
    mask = np.zeros((64, 96), np.uint8)
    mask[10:30, 10:40] = 255
    doc.set_mask(mask)
    panel.mode.setCurrentIndex(panel.mode.findData("erase"))
    doc.set_frame(Rect(0, 0, 48, 40))
    first = panel.generate()
    doc.set_frame(Rect(8, 4, 64, 48))
    second = panel.generate()
    qtbot.waitUntil(lambda: first.state.finished and second.state.finished, timeout=30000)
    qtbot.waitUntil(lambda: panel.tray.count() == 2, timeout=5000)
    frames = sorted(tuple(c.frame) for c in panel.results.candidates)
    assert frames == [(0, 0, 48, 40), (8, 4, 64, 48)]
    sizes = sorted(c.image.size for c in panel.results.candidates)
    assert sizes == [(48, 40), (64, 48)]
    assert not panel.cancel_button.isEnabled()
    studio.window.documents.set_document(new_document(32, 32))
    assert panel.apply_selected() is None
    assert "another document" in panel.status.text()


def test_tray_list_shows_the_results_model_and_follows_the_artists_choice(panel):
    from artstudio.diffusion.results import Candidate, ResultTarget
    from artstudio.document.staleness import DocumentMark

    target = ResultTarget("txt2img", Rect(0, 0, 8, 8), DocumentMark.of(panel.doc))
    for seed in (1, 2, 3):
        panel.results.add(Candidate(Image.new("RGB", (8, 8)), {"prompt": "sea"}, target, seed))
    tray = panel.tray
    assert [tray.item(i).text() for i in range(tray.count())] == ["seed 1", "seed 2", "seed 3"]
    assert tray.item(0).toolTip() == "sea"
    assert tray.currentRow() == 2 and panel.results.selected == 2
    tray.setCurrentRow(0)  # the artist clicks the first one
    assert panel.results.current.seed == 1
    panel.discard_selected()
    assert [tray.item(i).text() for i in range(tray.count())] == ["seed 2", "seed 3"]
    assert tray.currentRow() == 0 and panel.results.current.seed == 2
    panel.rerun_selected()
    assert panel.seed.value() == 2 and panel.seed_mode.currentData() == "fixed"


def test_controls_start_at_the_generation_defaults(studio):
    from artstudio.diffusion.params import SEED_MODES, GenerationParams
    from artstudio.diffusion.schedulers import SAMPLERS

    panel = studio.window.generate_panel
    defaults = GenerationParams(model="")
    assert (panel.steps.value(), panel.cfg.value(), panel.count.value()) == \
        (defaults.steps, defaults.cfg_scale, defaults.count)
    assert panel.strength.value() == defaults.strength == 0.75
    assert (panel.mask_blur.value(), panel.padding.value()) == \
        (defaults.mask_blur, defaults.mask_padding)
    assert (panel.width_box.value(), panel.height_box.value()) == \
        (defaults.width, defaults.height)
    assert panel.sampler.currentData() == defaults.scheduler
    assert [panel.sampler.itemData(i) for i in range(panel.sampler.count())] == list(SAMPLERS)
    assert panel.seed.value() == -1 and panel.seed.text() == "Random"
    assert panel.seed_mode.currentData() == defaults.seed_mode
    assert [panel.seed_mode.itemData(i) for i in range(panel.seed_mode.count())] == \
        list(SEED_MODES)


def test_sd2_variant_is_asked_once_and_kept_in_settings(studio, monkeypatch, artstudio_home):
    from types import SimpleNamespace

    from PySide6.QtWidgets import QInputDialog

    from artstudio.settings import load_settings

    asked = []
    monkeypatch.setattr(QInputDialog, "getItem",
                        lambda *a, **k: (asked.append((a[1], a[3])) or a[3][1], True))
    panel = studio.window.generate_panel
    info = SimpleNamespace(needs_variant_choice=True, short_hash="0123456789ab", name="sd2",
                           kind="sd2")
    assert panel._variant_for(info) == "sd2-v"
    assert panel._variant_for(info) == "sd2-v"
    assert len(asked) == 1  # the choices are the registry's variants of the kind
    assert asked[0] == ("Which Stable Diffusion 2?",
                        ["sd2: 512 px base (predicts noise)", "sd2-v: 768 px (predicts velocity)"])
    assert studio.settings.model_variants == {"0123456789ab": "sd2-v"}
    assert "model_variants" not in studio.settings.extra
    assert load_settings()[0].model_variants == {"0123456789ab": "sd2-v"}


def test_a_model_folder_on_a_missing_drive_is_named_in_the_panel(studio, qtbot, tmp_path):
    gone = tmp_path / "unplugged-drive" / "models"
    studio.settings.model_folders = [str(gone)]
    panel = studio.window.generate_panel
    panel.refresh_models()
    qtbot.waitUntil(lambda: "Model folder not found" in panel.status.text(), timeout=30000)
    assert str(gone) in panel.status.text()
