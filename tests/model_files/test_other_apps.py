"""Model folders of AUTOMATIC1111 and ComfyUI installs are found, and model folders
are checked before they are added (issue 11, items 8 and 14)."""

from __future__ import annotations

import os

from artstudio.model_files.folder_check import model_folder_problem
from artstudio.model_files.other_apps import find_other_app_folders


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 16)
    return path


def test_the_usual_installs_under_home_are_found(tmp_path, monkeypatch):
    home = tmp_path / "home"
    touch(home / "stable-diffusion-webui/models/Stable-diffusion/v1-5.safetensors")
    touch(home / "ComfyUI/models/checkpoints/sdxl/base.safetensors")
    touch(home / "ComfyUI/models/upscale_models/4x.pth")
    (home / "ComfyUI/models/diffusion_models").mkdir(parents=True)  # empty: not offered
    (home / "stable-diffusion-webui/models/ESRGAN").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    found = find_other_app_folders()
    assert [(f.app, f.folder.relative_to(home).as_posix()) for f in found] == [
        ("AUTOMATIC1111", "stable-diffusion-webui/models/Stable-diffusion"),
        ("ComfyUI", "ComfyUI/models/checkpoints"),
        ("ComfyUI", "ComfyUI/models/upscale_models"),
    ]


def test_folders_already_in_settings_are_not_offered_again(tmp_path):
    folder = touch(tmp_path / "ComfyUI/models/checkpoints/a.ckpt").parent
    assert find_other_app_folders(tmp_path, known=[str(folder)]) == []
    assert find_other_app_folders(tmp_path / "nobody") == []


def test_a_folder_without_models_is_flagged_and_an_unreadable_one_refused(tmp_path,
                                                                            monkeypatch):
    empty = tmp_path / "empty"
    (empty / "docs").mkdir(parents=True)
    touch(empty / "docs/readme.txt")
    problem, refuse = model_folder_problem(empty)
    assert "holds no model files" in problem and not refuse
    assert model_folder_problem(touch(tmp_path / "models/deep/er/x.safetensors").parents[2]) \
        is None
    assert model_folder_problem(tmp_path / "missing")[1] is True
    assert model_folder_problem(touch(tmp_path / "a-file.bin"))[1] is True

    locked = tmp_path / "system"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # the tests run as a user who can read all
    problem, refuse = model_folder_problem(locked)
    assert refuse and "cannot be read (Permission denied)" in problem
