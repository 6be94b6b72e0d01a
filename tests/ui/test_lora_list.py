"""The Generate panel's LoRA list: another family's LoRAs greyed with the
reason, sliders and ticks kept in sync with the prompt's <lora:> tags both
ways, trigger words inserted, a dropped PNG's missing LoRAs named."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QToolButton
from safetensors.torch import save_file

from artstudio.diffusion import loras
from artstudio.paths import user_models_dir
from artstudio.ui.lora_list import SLIDER_STEPS, LoraList

ATTN2_K = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k"


def _lora(folder, name, width, triggers=""):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file({f"{ATTN2_K}.lora_down.weight": torch.zeros(4, width),
               f"{ATTN2_K}.lora_up.weight": torch.zeros(320, 4)}, str(path),
              metadata={"modelspec.trigger_phrase": triggers} if triggers else None)
    return path


@pytest.fixture
def made(tmp_path, qtbot):
    prompt = QPlainTextEdit()
    widget = LoraList(prompt)
    qtbot.addWidget(prompt)
    qtbot.addWidget(widget)
    ink = _lora(tmp_path / "Lora", "inkwash", 768, "ink wash, sumi-e")
    xl = _lora(tmp_path / "Lora", "xl-glow", 2048)
    widget.set_loras(loras.find_loras([tmp_path / "Lora"]))
    widget.set_family("sd1")
    return prompt, widget, ink, xl


def _item(widget, name):
    return next(widget.found.item(i) for i in range(widget.found.count())
                if widget.found.item(i).text() == name)


def test_another_familys_lora_is_greyed_with_the_reason(made):
    _prompt, widget, _ink, _xl = made
    xl = _item(widget, "xl-glow")
    assert not xl.flags() & Qt.ItemFlag.ItemIsEnabled
    assert xl.toolTip() == "xl-glow is a LoRA for SDXL models, not SD1."
    ink = _item(widget, "inkwash")
    assert ink.flags() & Qt.ItemFlag.ItemIsEnabled and "ink wash, sumi-e" in ink.toolTip()
    widget.set_family("sdxl")  # another model chosen: the other one is greyed
    assert _item(widget, "xl-glow").flags() & Qt.ItemFlag.ItemIsEnabled
    assert not _item(widget, "inkwash").flags() & Qt.ItemFlag.ItemIsEnabled


def test_ticks_sliders_and_the_prompt_follow_each_other(made, qtbot):
    prompt, widget, _ink, _xl = made
    prompt.setPlainText("a harbour at dawn")
    _item(widget, "inkwash").setCheckState(Qt.CheckState.Checked)
    assert prompt.toPlainText() == "a harbour at dawn <lora:inkwash:1>"
    slider = widget.findChild(type(widget.rows["inkwash"].slider), "loraWeight:inkwash")
    slider.setValue(round(0.6 * SLIDER_STEPS))
    assert prompt.toPlainText() == "a harbour at dawn <lora:inkwash:0.6>"
    prompt.setPlainText("a harbour <lora:inkwash:0.35> at dawn")  # typed by the artist
    assert slider.value() == 7 and widget.rows["inkwash"].value.text() == "0.35"
    prompt.setPlainText("a harbour at dawn")
    assert _item(widget, "inkwash").checkState() == Qt.CheckState.Unchecked
    assert widget.rows == {}


def test_trigger_word_chips_insert_the_word_before_the_tags(made, qtbot):
    prompt, widget, _ink, _xl = made
    prompt.setPlainText("a harbour <lora:inkwash:0.8>")
    chip = widget.findChild(QToolButton, "loraTrigger:sumi-e")
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert prompt.toPlainText() == "a harbour, sumi-e <lora:inkwash:0.8>"
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)  # there already: unchanged
    assert prompt.toPlainText() == "a harbour, sumi-e <lora:inkwash:0.8>"


def test_the_panel_lists_the_models_folder_and_names_a_dropped_pngs_missing_lora(
        studio, qtbot, tmp_path):
    _lora(user_models_dir() / "Lora", "inkwash", 768, "ink wash")
    panel = studio.window.generate_panel
    panel.lora_list.refresh(panel.runner)
    qtbot.waitUntil(lambda: [i.name for i in panel.lora_list.infos] == ["inkwash"],
                    timeout=20000)
    png = tmp_path / "from-a1111.png"
    info = PngInfo()
    info.add_text("parameters", "a boat <lora:inkwash:0.5> <lora:gone:0.7>\nSteps: 20, "
                  'Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, '
                  'Lora hashes: "inkwash: 000000000000, gone: 123456789abc"')
    Image.new("RGB", (8, 8)).save(png, pnginfo=info)
    assert panel.settings_from_png(png)
    assert "Not restored: the LoRA gone (not found in the LoRA folders)" in panel.status.text()
    assert set(panel.lora_list.rows) == {"inkwash", "gone"}
    assert _item(panel.lora_list, "inkwash").checkState() == Qt.CheckState.Checked
