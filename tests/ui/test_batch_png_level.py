"""The folder batch dialog's PNG compression: the level chosen is the level
the PNGs are written at (the zlib header of every output says so), it is
kept in the settings file for the next batch, and it only applies to PNG."""

from __future__ import annotations

import json
import struct

from artstudio.batch import fast_png
from artstudio.settings import Settings, load_settings

# zlib's header says how hard it compressed: FLEVEL 0 (levels 0-1), 1 (2-5), 2 (6), 3 (7-9)
ZLIB_FLEVEL = {0: 0, 1: 0, 3: 1, 6: 2, 9: 3}


def zlib_level_class(path) -> int:
    data = path.read_bytes()
    at = 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            return data[at + 9] >> 6  # FLG's top two bits
        at += 12 + length
    raise AssertionError(f"no image data in {path}")


def test_the_chosen_level_writes_the_pngs_and_is_saved(qtbot, style_dialog, picture_folders,
                                                       artstudio_home):
    src, out = picture_folders
    settings = Settings(batch_png_level="1")
    dialog = style_dialog(settings=settings)
    assert dialog.png_level_combo.currentData() == "1"
    dialog.input_edit.setText(str(src))
    dialog.output_edit.setText(str(out))
    dialog.chooser.select_styles([3])
    dialog.png_level_combo.setCurrentIndex(dialog.png_level_combo.findData("9"))
    with qtbot.waitSignal(dialog.batch_finished, timeout=30000) as finished:
        dialog.start_button.click()
    assert len(finished.args[0].written) == 4
    assert {zlib_level_class(p) for p in out.glob("*.png")} == {ZLIB_FLEVEL[9]}
    assert settings.batch_png_level == "9"
    saved = json.loads((artstudio_home / "config" / "settings.json").read_text())
    assert saved["batch_png_level"] == "9"
    assert load_settings()[0].batch_png_level == "9"
    again = style_dialog(settings=settings)
    assert again.png_level_combo.currentData() == "9"


def test_level_zero_and_the_default(qtbot, style_dialog, picture_folders):
    src, out = picture_folders
    for level, folder in (("0", out / "zero"), ("3", out / "three")):
        dialog = style_dialog(settings=Settings(batch_png_level=level))
        dialog.input_edit.setText(str(src))
        dialog.output_edit.setText(str(folder))
        with qtbot.waitSignal(dialog.batch_finished, timeout=30000):
            dialog.start_button.click()
        assert {zlib_level_class(p) for p in folder.glob("*.png")} == {ZLIB_FLEVEL[int(level)]}
    zero = sum(p.stat().st_size for p in (out / "zero").glob("*.png"))
    three = sum(p.stat().st_size for p in (out / "three").glob("*.png"))
    assert zero > three


def test_only_png_takes_a_level_and_fast_needs_fpng(style_dialog):
    dialog = style_dialog()  # no settings: the default level, nothing saved
    assert dialog.png_level_combo.currentData() == "3"
    assert dialog.png_level() == 3
    dialog.format_combo.setCurrentText("jpg")
    assert not dialog.png_level_combo.isEnabled()
    dialog.format_combo.setCurrentText("png")
    assert dialog.png_level_combo.isEnabled()
    has_fast = dialog.png_level_combo.findData("fast") >= 0
    assert has_fast == fast_png.available()
    remembered = style_dialog(settings=Settings(batch_png_level="fast"))
    assert remembered.png_level() == ("fast" if has_fast else 3)


def test_a_bad_saved_level_is_refused_when_read():
    from artstudio.settings import from_json

    settings, notes = from_json({"batch_png_level": "11"})
    assert settings.batch_png_level == "3" and any("batch_png_level" in n for n in notes)
