"""The folder batch dialog runs a real batch through a real Engine, shows
the summary and failures, refuses bad folders, and cancels cleanly."""

from __future__ import annotations

import threading

import pytest

from artstudio.ui.batch_dialog import REPORT_NAME


@pytest.fixture
def folders(picture_folders):
    src, out = picture_folders
    (src / "broken.png").write_bytes(b"not a png")
    return src, out




def test_runs_a_batch_to_the_summary(qtbot, dialog, folders):
    src, out = folders
    dialog.input_edit.setText(str(src))
    dialog.output_edit.setText(str(out))
    dialog.chooser.select_styles([14])
    dialog.format_combo.setCurrentText("jpg")
    gui = threading.current_thread()
    with qtbot.waitSignal(dialog.batch_finished, timeout=30000) as finished:
        dialog.start_button.click()
        assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    report = finished.args[0]
    assert threading.current_thread() is gui
    assert len(report.written) == 4 and len(report.failed) == 1
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"{i}.jpg" for i in range(4)]
    assert (out / REPORT_NAME).is_file()
    assert "4 written" in dialog.summary_label.text()
    assert dialog.failures_list.count() == 1
    assert "broken.png" in dialog.failures_list.item(0).text()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 5
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_refuses_output_inside_input(dialog, folders):
    src, _out = folders
    dialog.input_edit.setText(str(src))
    dialog.output_edit.setText(str(src / "styled"))
    dialog.start_button.click()
    assert "inside the input folder" in dialog.status_label.text()
    assert dialog.start_button.isEnabled() and not dialog.running


def test_cancel_stops_after_the_current_image(qtbot, dialog, folders, start_held_batch):
    src, out = folders
    gate = start_held_batch(dialog, src, out)
    dialog.cancel_button.click()
    assert "Cancelling" in dialog.status_label.text()
    with qtbot.waitSignal(dialog.batch_finished, timeout=30000) as finished:
        gate.set()
    report = finished.args[0]
    assert report.cancelled and len(report.written) == 1
    assert dialog.status_label.text() == "Cancelled."
    assert [p.name for p in out.glob("*.png")] == ["0.png"]
    assert not list(out.glob(".*"))  # no partial files
