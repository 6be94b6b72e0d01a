"""Settings survive corrupt files, other versions and unwritable folders."""

from __future__ import annotations

import json
import os

import pytest

from artstudio import paths
from artstudio.settings import Settings, load_settings, save_settings, update_settings


def test_defaults_when_no_file():
    settings, notes = load_settings()
    assert settings == Settings() and notes == []


def test_round_trip_in_platform_folder(artstudio_home):
    original = Settings(device="cuda:1", memory_budget_mb=4096, model_folders=["/models/sd"])
    assert save_settings(original) is None
    assert paths.settings_file().parent == artstudio_home / "config"
    loaded, notes = load_settings()
    assert loaded == original and notes == []


def test_corrupt_file_gives_defaults_and_is_kept_aside():
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00\xff{ definitely not json")
    settings, notes = load_settings()
    assert settings == Settings()
    assert "corrupt" in notes[0] and "settings.json.corrupt" in notes[0]
    assert path.with_name("settings.json.corrupt").read_bytes().startswith(b"\x00\xff")


def test_older_version_keeps_valid_values_and_defaults_bad_ones():
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 0, "device": "cpu", "autosave_interval_s": "often",
                                "max_image_megapixels": -5}))
    settings, notes = load_settings()
    assert settings.device == "cpu"
    assert settings.autosave_interval_s == Settings().autosave_interval_s
    assert settings.max_image_megapixels == Settings().max_image_megapixels
    assert any("version 0" in n for n in notes)
    assert any("autosave_interval_s" in n for n in notes)


def test_newer_versions_keys_survive_a_save():
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 9, "device": "mps", "future_option": [1, 2]}))
    settings, _ = load_settings()
    save_settings(settings)
    data = json.loads(path.read_text())
    assert data["future_option"] == [1, 2] and data["device"] == "mps"


def test_not_an_object():
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text("[1, 2, 3]")
    settings, notes = load_settings()
    assert settings == Settings() and notes


def test_unwritable_folder_is_a_message(tmp_path):
    # under a regular file: ENOTDIR, for root too (a read-only folder does not stop root)
    blocker = tmp_path / "afile"
    blocker.write_bytes(b"")
    problem = save_settings(Settings(), blocker / "ro" / "settings.json")
    assert problem and "could not save settings" in problem
    assert blocker.read_bytes() == b""


def test_failed_write_leaves_old_file_intact(monkeypatch):
    save_settings(Settings(device="cpu"))
    before = paths.settings_file().read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    problem = save_settings(Settings(device="mps"))
    assert "No space left on device" in problem
    assert paths.settings_file().read_bytes() == before
    leftovers = [p.name for p in paths.settings_file().parent.iterdir()]
    assert leftovers == ["settings.json"]


def test_unreadable_path_is_a_note(tmp_path):
    settings, notes = load_settings(tmp_path)  # a folder, not a file
    assert settings == Settings() and "could not read" in notes[0]


def test_model_variants_are_a_setting_of_their_own():
    settings = Settings(model_variants={"0123456789ab": "sd2-v"})
    assert save_settings(settings) is None
    data = json.loads(paths.settings_file().read_text())
    assert data["model_variants"] == {"0123456789ab": "sd2-v"}
    loaded, notes = load_settings()
    assert loaded.model_variants == {"0123456789ab": "sd2-v"} and notes == []
    assert "model_variants" not in loaded.extra


def test_variants_kept_among_unknown_keys_by_an_older_version_are_taken_over():
    # The previous version kept settings.extra["model_variants"], and extra is
    # written at the top level of the file beside the known keys.
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "device": "auto", "future_option": 1,
                                "model_variants": {"0123456789ab": "sd2"}}))
    loaded, notes = load_settings()
    assert loaded.model_variants == {"0123456789ab": "sd2"} and notes == []
    assert loaded.extra == {"future_option": 1}
    save_settings(loaded)
    data = json.loads(paths.settings_file().read_text())
    assert data["model_variants"] == {"0123456789ab": "sd2"} and data["future_option"] == 1


@pytest.mark.parametrize("bad", [["sd2"], {"0123456789ab": 2}, {"": "sd2"}, {"abc": ""}])
def test_malformed_model_variants_fall_back_with_a_note(bad):
    path = paths.settings_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "device": "cpu", "model_variants": bad}))
    settings, notes = load_settings()
    assert settings.model_variants == {} and settings.device == "cpu"
    assert any("model_variants" in n for n in notes)


def test_update_keeps_the_object_and_takes_every_value():
    live = Settings()
    holder = live
    update_settings(live, Settings(device="cpu", model_folders=["/m"], extra={"x": 1}))
    assert holder is live
    assert (live.device, live.model_folders, live.extra) == ("cpu", ["/m"], {"x": 1})
