"""The folder batch dialog sends a batch to the Ray cluster saved in
Settings; an address where nothing answers fails before any work, in words."""

from __future__ import annotations

import pytest

from artstudio.settings import Settings, from_json


@pytest.fixture
def ray_dialog(style_dialog):
    return style_dialog(ray_address="127.0.0.1:9")


def test_the_address_saved_in_settings_is_offered_and_used(qtbot, ray_dialog,
                                                          picture_folders):
    src, out = picture_folders
    assert ray_dialog.ray_check.isVisible() and "127.0.0.1:9" in ray_dialog.ray_check.text()
    ray_dialog.input_edit.setText(str(src))
    ray_dialog.output_edit.setText(str(out))
    ray_dialog.ray_check.setChecked(True)
    with qtbot.waitSignal(ray_dialog.batch_finished, timeout=60000) as finished:
        ray_dialog.start_button.click()
    assert finished.args[0] is None  # it could not run
    assert "Ray" in ray_dialog.summary_label.text()  # the cluster's problem, not a crash
    assert not out.exists()  # nothing done, not even the folder's record


def test_no_cluster_option_without_an_address(dialog):
    assert not dialog.ray_check.isVisible()


def test_settings_keep_the_ray_address(qtbot):
    from artstudio.ui.settings_dialog import SettingsDialog

    settings, notes = from_json({**Settings().to_json(), "ray_address": "head:6379"})
    assert settings.ray_address == "head:6379" and not notes
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    dlg.ray_address.setText("  auto ")
    assert dlg.result_settings().ray_address == "auto"
