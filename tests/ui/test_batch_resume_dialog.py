"""The folder batch dialog when the output folder holds images made with
other settings: it shows what differs and offers a new subfolder, overwrite,
or keep going; and after a cancel it shows the same progress as the Jobs panel."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from artstudio.batch.recipe import TEXT_KEY
from artstudio.batch.resume import ResumeCheck
from artstudio.engine import Engine
from artstudio.ui.batch_dialog import StyleBatchDialog
from artstudio.ui.engine_bridge import EngineBridge
from artstudio.ui.job_runner import JobRunner


@pytest.fixture
def folders(picture_folders):
    return picture_folders




def run(qtbot, dialog, button=None):
    with qtbot.waitSignal(dialog.batch_finished, timeout=30000) as finished:
        (button or dialog.start_button).click()
    return finished.args[0]


def style_of(path):
    return json.loads(Image.open(path).text[TEXT_KEY])["what"]


def made_before(qtbot, dialog, folders):
    src, out = folders
    dialog.input_edit.setText(str(src))
    dialog.output_edit.setText(str(out))
    dialog.chooser.select_styles([14])
    first = run(qtbot, dialog)
    assert len(first.written) == 4
    dialog.chooser.select_styles([12])
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}


def test_other_settings_are_shown_and_nothing_is_done(qtbot, dialog, folders):
    _src, out = folders
    before = made_before(qtbot, dialog, folders)
    check = run(qtbot, dialog)
    assert isinstance(check, ResumeCheck) and len(check.other) == 4
    assert dialog.conflict_box.isVisible()
    text = dialog.conflict_label.text()
    assert "4 of the 4 images" in text and "style weights" in text
    assert "style 14 frost -&gt; style 12 lilac" in text
    assert "style-12" in dialog.subfolder_button.text()
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == before
    assert dialog.start_button.isEnabled() and dialog.report is None


def test_new_subfolder(qtbot, dialog, folders):
    _src, out = folders
    before = made_before(qtbot, dialog, folders)
    run(qtbot, dialog)
    report = run(qtbot, dialog, dialog.subfolder_button)
    assert len(report.written) == 4 and not dialog.conflict_box.isVisible()
    sub = out / "style-12-lilac"
    assert dialog.output_edit.text() == str(sub)
    assert all("lilac" in style_of(p) for p in sub.glob("*.png"))
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == before


def test_overwrite(qtbot, dialog, folders):
    _src, out = folders
    made_before(qtbot, dialog, folders)
    run(qtbot, dialog)
    report = run(qtbot, dialog, dialog.overwrite_button)
    assert len(report.written) == 4 and not report.already_done
    assert all("lilac" in style_of(p) for p in out.glob("*.png"))


def test_keep_going(qtbot, dialog, folders):
    _src, out = folders
    made_before(qtbot, dialog, folders)
    (out / "3.png").unlink()
    run(qtbot, dialog)
    assert "3 of the 3 images" in dialog.conflict_label.text()
    report = run(qtbot, dialog, dialog.keep_button)
    assert len(report.written) == 1 and len(report.already_done) == 3
    assert "lilac" in style_of(out / "3.png") and "frost" in style_of(out / "0.png")


def test_same_settings_just_resume(qtbot, dialog, folders):
    made_before(qtbot, dialog, folders)
    dialog.chooser.select_styles([14])
    report = run(qtbot, dialog)
    assert len(report.already_done) == 4 and not dialog.conflict_box.isVisible()


def test_cancelled_batch_shows_one_progress_in_dialog_and_jobs_panel(studio, qtbot, folders,
                                                                    start_held_batch):
    src, out = folders
    window = studio.window
    dialog = StyleBatchDialog(window.runner)
    qtbot.addWidget(dialog)
    gate = start_held_batch(dialog, src, out)
    job_id = dialog._handle.id
    dialog.cancel_button.click()
    with qtbot.waitSignal(dialog.batch_finished, timeout=30000) as finished:
        gate.set()
    report = finished.args[0]
    assert report.cancelled and len(report.written) == 1
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: panel.row_state(job_id) == "cancelled", timeout=5000)
    assert panel.row_progress(job_id) == (1, 4) == report.progress
    assert (dialog.progress_bar.value(), dialog.progress_bar.maximum()) == (1, 4)
    assert panel.row_progress_text(job_id) == dialog.progress_bar.text() == "25%"
    dialog.close()


def test_a_batch_that_stops_to_ask_is_not_shown_as_full(studio, qtbot, folders):
    src, out = folders
    window = studio.window
    dialog = StyleBatchDialog(window.runner)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.input_edit.setText(str(src))
    dialog.output_edit.setText(str(out))
    dialog.chooser.select_styles([14])
    run(qtbot, dialog)
    dialog.chooser.select_styles([12])
    dialog.start_button.click()
    job_id = dialog._handle.id
    qtbot.waitUntil(lambda: dialog.pending_check is not None, timeout=30000)
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: panel.row_state(job_id) == "done", timeout=5000)
    assert panel.row_progress(job_id) == (0, 4)
    assert (dialog.progress_bar.value(), dialog.progress_bar.text()) == (0, "0%")
    dialog.close()


def test_upscale_folder_at_another_scale_asks_too(qtbot, folders):
    from artstudio.ui.upscale_dialog import UpscaleBatchDialog

    src, out = folders
    engine = Engine(pool_workers=1)
    bridge = EngineBridge(engine)
    dialog = UpscaleBatchDialog(JobRunner(bridge), device="cpu")
    qtbot.addWidget(dialog)
    dialog.show()
    try:
        dialog.input_edit.setText(str(src))
        dialog.output_edit.setText(str(out))
        dialog.chooser.model.setCurrentIndex(1)  # Lanczos
        assert len(run(qtbot, dialog).written) == 4
        dialog.chooser.scale.setValue(3.0)
        check = run(qtbot, dialog)
        assert isinstance(check, ResumeCheck)
        assert "scale: 2 -&gt; 3" in dialog.conflict_label.text()
        assert dialog.subfolder_button.text() == "New subfolder “upscale-lanczos-x3”"
        report = run(qtbot, dialog, dialog.subfolder_button)
        assert Image.open(out / "upscale-lanczos-x3" / "0.png").size == (168, 120)
        assert len(report.written) == 4 and Image.open(out / "0.png").size == (112, 80)
    finally:
        dialog.close()
        bridge.detach()
        engine.shutdown()
