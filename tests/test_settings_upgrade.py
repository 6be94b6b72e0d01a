"""Installing a newer Artstudio over an older one keeps the artist's settings:
a file an older version wrote (fewer keys, an older schema) is read whole,
and saving it again loses none of it."""

from __future__ import annotations

import json

from artstudio import paths
from artstudio.settings import SCHEMA_VERSION, load_settings, save_settings

# Written by the first release's save_settings (before model variants and
# remembered folders existed), with an artist's choices in it.
FIRST_RELEASE = {
    "autosave_interval_s": 60, "cpu_offload": "on", "device": "cpu",
    "max_image_megapixels": 200, "memory_budget_mb": 6000,
    "model_folders": ["/media/artist/models"], "precision": "float32",
    "recent_files": ["/home/artist/Pictures/lighthouse.ora"], "version": 1,
}


def write(data) -> None:
    path = paths.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_the_first_releases_settings_are_read_whole_and_without_a_complaint():
    write(FIRST_RELEASE)
    settings, notes = load_settings()
    assert notes == []
    for key, value in FIRST_RELEASE.items():
        assert getattr(settings, key) == value, key
    assert settings.model_variants == {} and settings.last_folders == {}  # new: defaults


def test_saving_them_again_keeps_every_old_value_and_adds_the_new_keys():
    write(FIRST_RELEASE)
    settings, _ = load_settings()
    settings.last_folders["results"] = "/home/artist/Pictures"  # the new version at work
    assert save_settings(settings) is None
    saved = json.loads(paths.settings_file().read_text())
    assert {k: saved[k] for k in FIRST_RELEASE} == FIRST_RELEASE
    assert saved["last_folders"] == {"results": "/home/artist/Pictures"}
    again, notes = load_settings()
    assert notes == [] and again == settings


def test_a_file_from_before_the_schema_had_a_version_keeps_its_values():
    old = {k: v for k, v in FIRST_RELEASE.items() if k != "version"}
    old["tablet_pressure_curve"] = [0.2, 0.8]  # a key this version does not know
    write(old)
    settings, notes = load_settings()
    assert settings.model_folders == ["/media/artist/models"] and settings.device == "cpu"
    assert notes == [f"settings from version 0 read by version {SCHEMA_VERSION}"]
    save_settings(settings)
    saved = json.loads(paths.settings_file().read_text())
    assert saved["tablet_pressure_curve"] == [0.2, 0.8]
    assert saved["version"] == SCHEMA_VERSION
