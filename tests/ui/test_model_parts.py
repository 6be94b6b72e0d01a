"""A split model's parts in the Generate panel: one combo per part, the
alternatives that fit, and the artist's choice in the generation request."""

from __future__ import annotations

import split_parts as sp
from PySide6.QtWidgets import QLabel

from artstudio.document.create import new_document
from artstudio.model_files.identify import identify


def test_the_panel_offers_each_part_and_sends_the_chosen_ones(studio, tmp_path, qtbot, tiny):
    transformer = sp.comfy_flux_install(tmp_path / "ComfyUI",
                                        t5_names=("t5xxl_fp16", "t5xxl_fp8_e4m3fn"))
    panel = studio.window.generate_panel
    studio.window.documents.set_document(new_document(64, 64))
    panel.set_models([identify(transformer), identify(tiny["sd1"]["diffusers"])])
    qtbot.waitUntil(lambda: "t5" in panel.parts.combos, timeout=30000)
    assert panel.parts.isVisibleTo(panel)
    t5 = panel.parts.combos["t5"]
    assert [t5.itemText(i) for i in range(t5.count())] == ["t5xxl_fp16", "t5xxl_fp8_e4m3fn"]
    assert set(panel.parts.combos) == {"t5"}  # one CLIP-L and one VAE: nothing to choose
    shown = [w.text() for w in panel.parts.findChildren(QLabel)]
    assert "CLIP-L:" in shown and "clip_l" in shown and "ae" in shown
    t5.setCurrentIndex(1)
    params = panel.model_params()
    assert [p.rsplit("/", 1)[-1] for p in params.text_encoders] == [
        "t5xxl_fp8_e4m3fn.safetensors", "clip_l.safetensors"]
    assert params.vae.endswith("vae/ae.safetensors")
    panel.model.setCurrentIndex(1)  # a diffusers folder: no parts row, none sent
    assert not panel.parts.isVisibleTo(panel)
    params = panel.model_params()
    assert params.text_encoders == () and params.vae is None


def test_a_missing_part_is_said_in_the_row(studio, tmp_path, qtbot):
    transformer = sp.comfy_flux_install(tmp_path / "ComfyUI", vae_names=())
    panel = studio.window.generate_panel
    panel.set_models([identify(transformer)])
    qtbot.waitUntil(lambda: "VAE" in panel.parts.problem.text(), timeout=30000)
    assert "No 16-channel VAE for FLUX.1 dev" in panel.parts.problem.text()
    assert "vae" not in panel.parts.chosen
