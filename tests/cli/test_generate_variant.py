"""`artstudio generate` uses the SD 2 variant chosen in the app for a file
that cannot tell, unless --variant says otherwise, and says so on stderr."""

from __future__ import annotations

import shutil

import pytest

import artstudio.diffusion.generate as generation
from artstudio.cli import main
from artstudio.model_files.identify import identify
from artstudio.settings import Settings, save_settings


@pytest.fixture
def ambiguous_sd2(tiny, tmp_path):
    """An SD 2 checkpoint without a config beside it: its prediction is unknown."""
    lone = tmp_path / "sd2-unknown.safetensors"
    shutil.copy(tiny["sd2-v"]["single"], lone)
    assert identify(lone).needs_variant_choice
    return lone


@pytest.fixture
def requests(monkeypatch):
    made = []

    def record(params, out, progress, **_options):
        made.append(params)
        return []

    monkeypatch.setattr(generation, "generate_to_files", record)
    return made


def generate(model, *extra):
    return main(["generate", "--model", str(model), "--prompt", "x", "--width", "64",
                 "--height", "64", *extra])


def test_the_remembered_answer_is_used_and_reported(ambiguous_sd2, requests, capsys):
    save_settings(Settings(model_variants={identify(ambiguous_sd2).short_hash: "sd2-v"}))
    assert generate(ambiguous_sd2) == 0
    assert requests[0].variant == "sd2-v"
    captured = capsys.readouterr()
    assert "sd2-unknown.safetensors taken as sd2-v, as chosen in the app" in captured.err
    assert captured.out == ""


def test_variant_on_the_command_line_wins_quietly(ambiguous_sd2, requests, capsys):
    save_settings(Settings(model_variants={identify(ambiguous_sd2).short_hash: "sd2-v"}))
    assert generate(ambiguous_sd2, "--variant", "sd2") == 0
    assert requests[0].variant == "sd2"
    assert "chosen in the app" not in capsys.readouterr().err


def test_without_an_answer_the_variant_stays_open(ambiguous_sd2, requests, capsys):
    assert generate(ambiguous_sd2) == 0
    assert requests[0].variant is None
    assert "chosen in the app" not in capsys.readouterr().err


def test_a_file_that_tells_its_variant_ignores_remembered_answers(tiny, requests):
    model = tiny["sd2-v"]["single"]  # its config folder says v-prediction
    save_settings(Settings(model_variants={identify(model).short_hash: "sd2"}))
    assert generate(model) == 0
    assert requests[0].variant is None
