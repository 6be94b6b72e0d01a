"""Batch reports: one per run plus a summary of all runs (a resumed batch keeps
the first run's failures), names that are not UTF-8, and a report that cannot
be written never losing the run's results."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

from artstudio.batch import BatchJob, BatchSettings, plan_batch, run_batch
from artstudio.batch.pipeline import run_batch_job
from artstudio.batch.report import write_run_reports
from artstudio.commands.style import main as style_main
from artstudio.engine import CancelToken
from artstudio.engine.printable import printable


def _image(path, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (16, 20, 3), dtype=np.uint8)).save(path)


def invert(rgba):
    out = rgba.copy()
    out[..., :3] = 255 - out[..., :3]
    return out


@pytest.mark.skipif(sys.platform != "linux", reason="file names as raw bytes")
def test_report_with_a_name_that_is_not_utf8(tmp_path, capsys):
    src, out, report_path = tmp_path / "in", tmp_path / "out", tmp_path / "r.json"
    src.mkdir()
    _image(src / "good.png")
    raw = os.fsencode(src)
    with open(raw + b"/bad\xff.png", "wb") as fh:  # fails: not an image
        fh.write(b"not a png")
    with open(raw + b"/notes\xfe.txt", "wb") as fh:  # skipped: not an image
        fh.write(b"text")
    code = style_main([str(src), str(out), "--style", "frost", "--report", str(report_path)])
    assert code == 1  # the failed file, not a crash
    err = capsys.readouterr().err
    assert "bad\\xff.png" in err and "Traceback" not in err
    assert (out / "good.png").is_file()
    data = json.loads(report_path.read_bytes().decode("utf-8"))  # valid UTF-8 JSON
    assert [f["file"].rsplit("/", 1)[-1] for f in data["failed"]] == ["bad\\xff.png"]
    run = json.loads((tmp_path / data["runs"][0]["report"]).read_text("utf-8"))
    assert any(s["file"].endswith("notes\\xfe.txt") for s in run["skipped"])
    assert run["written"] == 1


def test_report_names_escape_only_what_is_not_text():
    assert printable("café ü.png") == "café ü.png"
    assert printable(os.fsdecode(b"bad\xff.png")) == "bad\\xff.png"
    assert printable("lone\ud800") == "lone\\ud800"


def test_each_run_keeps_its_report_and_the_summary_keeps_open_failures(tmp_path):
    src, out, path = tmp_path / "in", tmp_path / "out", tmp_path / "out" / "report.json"
    src.mkdir()
    _image(src / "a.png")
    (src / "x.jpg").write_bytes(b"broken")
    (src / "y.jpg").write_bytes(b"broken")
    first = run_batch(plan_batch(src, out).items, invert)
    first.started = "2026-12-01T13:30:00"
    kept_first = write_run_reports(first, path)
    _image(src / "x.jpg", 1)  # fixed between the runs
    second = run_batch(plan_batch(src, out).items, invert)
    second.started = "2026-12-01T13:30:00"  # same second: still two files
    kept_second = write_run_reports(second, path)
    assert kept_first.name == "report-2026-12-01T133000.json"
    assert kept_second.name == "report-2026-12-01T133000-2.json"
    one = json.loads(kept_first.read_text("utf-8"))
    assert sorted(f["file"].rsplit("/", 1)[-1] for f in one["failed"]) == ["x.jpg", "y.jpg"]
    summary = json.loads(path.read_text("utf-8"))
    assert [r["report"] for r in summary["runs"]] == [kept_first.name, kept_second.name]
    assert [(r["written"], r["already_done"], r["failed"]) for r in summary["runs"]] == \
        [(1, 0, 2), (1, 1, 1)]
    # x was written by the second run; y still fails, with the second run's reason
    assert [(f["file"].rsplit("/", 1)[-1], f["run"]) for f in summary["failed"]] == \
        [("y.jpg", kept_second.name)]
    assert summary["written"] == 2


def test_a_resumed_cancelled_batch_keeps_the_first_runs_failures(tmp_path):
    src, out, path = tmp_path / "in", tmp_path / "out", tmp_path / "r.json"
    src.mkdir()
    (src / "a_broken.jpg").write_bytes(b"broken")
    for i in range(4):
        _image(src / f"b{i}.png", i)
    cancel = CancelToken()

    def cancel_after_one(rgba):
        cancel.cancel()
        return invert(rgba)

    items = plan_batch(src, out).items
    first = run_batch(items, cancel_after_one, BatchSettings(decode_ahead=1), cancel=cancel)
    assert first.cancelled and first.failed
    write_run_reports(first, path)
    second = run_batch(items, invert)
    assert not second.failed or second.failed[0][0].name == "a_broken.jpg"
    write_run_reports(second, path)
    summary = json.loads(path.read_text("utf-8"))
    assert len(summary["runs"]) == 2 and summary["runs"][0]["cancelled"]
    assert [f["file"].rsplit("/", 1)[-1] for f in summary["failed"]] == ["a_broken.jpg"]


def test_a_report_from_before_summaries_becomes_the_first_run(tmp_path):
    src, out, path = tmp_path / "in", tmp_path / "out", tmp_path / "r.json"
    src.mkdir()
    _image(src / "a.png")
    old = {"total": 3, "written": 2, "already_done": 0, "not_started": 0, "cancelled": False,
           "seconds": 1.0, "failed": [{"file": "old.png", "reason": "broken"}], "skipped": []}
    path.write_text(json.dumps(old), "utf-8")
    write_run_reports(run_batch(plan_batch(src, out).items, invert), path)
    summary = json.loads(path.read_text("utf-8"))
    assert len(summary["runs"]) == 2
    assert json.loads((tmp_path / summary["runs"][0]["report"]).read_text()) == old
    assert summary["failed"][0]["file"] == "old.png"


def test_a_report_that_cannot_be_written_loses_no_result(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    _image(src / "a.png")
    blocker = tmp_path / "file"
    blocker.write_text("a file, so nothing can be written under it")
    report = run_batch_job(BatchJob(plan_batch(src, out).items, lambda cancel: invert,
                                    report_path=blocker / "r.json"),
                           lambda *a, **k: None, CancelToken())
    assert len(report.written) == 1 and report.report_error
    assert "report could not be written" in report.summary()
    code = style_main([str(src), str(tmp_path / "out2"), "--style", "frost",
                       "--report", str(blocker / "r.json")])
    err = capsys.readouterr().err
    assert code == 1 and "1 written" in err and "could not be written" in err
    assert "Traceback" not in err


def test_progress_counts_outputs_already_done_like_the_report(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(4):
        _image(src / f"{i}.png", i)
    items = plan_batch(src, out).items
    run_batch(items[:2], invert)
    seen = []
    report = run_batch(items, invert, progress=lambda step, total, message="": seen.append(
        (step, total, message)))
    assert seen[0][:2] == (2, 4) and seen[-1][:2] == (4, 4) == report.progress
    assert seen[-1][2].startswith("4/4")


def test_a_large_batch_report_lists_failures_not_every_success(tmp_path):
    """A studio batch writes 100,000 files: the reports open on the counts
    and list only what went wrong (and what a later run put right)."""
    from artstudio.batch import BatchReport
    from artstudio.batch.naming import Item

    path = tmp_path / "report.json"
    first = BatchReport(total=2001, started="2026-12-01T10:00:00")
    for i in range(2000):
        first.record_written(Item(tmp_path / f"in/frame{i:05d}.png", tmp_path / f"o{i}.png"))
    first.failed.append((tmp_path / "in/broken.png", "not an image"))
    kept = write_run_reports(first, path)
    run = json.loads(kept.read_text("utf-8"))
    assert list(run)[:5] == ["started", "total", "written", "already_done", "failed_count"]
    assert run["written"] == 2000 and run["failed_count"] == 1
    assert "frame00007.png" not in kept.read_text("utf-8")  # no success listed
    assert [f["file"].rsplit("/", 1)[-1] for f in run["failed"]] == ["broken.png"]
    summary = json.loads(path.read_text("utf-8"))
    assert list(summary)[:2] == ["written", "failed_count"] and summary["failed_count"] == 1
    assert kept.stat().st_size < 2000  # not one line per written file

    second = BatchReport(total=2001, started="2026-12-01T11:00:00")
    second.record_written(Item(tmp_path / "in/broken.png", tmp_path / "broken.png"))
    kept2 = write_run_reports(second, path)
    assert json.loads(kept2.read_text("utf-8"))["recovered"][0].endswith("broken.png")
    summary = json.loads(path.read_text("utf-8"))
    assert summary["failed"] == [] and summary["failed_count"] == 0 and summary["written"] == 2001
