"""Each kind of file dialog opens where it was last used (issue 11, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from artstudio.settings import Settings, load_settings, remember_folder, start_folder


def test_a_kind_opens_where_it_was_last_used_and_survives_a_restart(tmp_path):
    results, models = tmp_path / "renders", tmp_path / "checkpoints"
    results.mkdir()
    models.mkdir()
    settings = Settings()
    assert start_folder(settings, "results") == Path.home()
    assert remember_folder(settings, "results", results / "sea.png") is None
    remember_folder(settings, "models", models)
    assert start_folder(settings, "results") == results.resolve()
    assert start_folder(settings, "models") == models.resolve()
    reloaded, notes = load_settings()
    assert notes == []
    assert start_folder(reloaded, "results") == results.resolve()


def test_a_folder_gone_falls_back_to_the_last_document_then_home(tmp_path):
    art = tmp_path / "art"
    art.mkdir()
    settings = Settings(recent_files=[str(art / "cat.ora")],
                        last_folders={"results": str(tmp_path / "deleted")})
    assert start_folder(settings, "results") == art
    settings.recent_files = []
    assert start_folder(settings, "results") == Path.home()


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        start_folder(Settings(), "everything")
