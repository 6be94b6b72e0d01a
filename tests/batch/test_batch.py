"""Batch semantics on a temporary folder of awkward files: structure kept,
resume, overwrite, failures reported with reasons, cancel, odd formats."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest
from PIL import Image

from artstudio.batch import (
    BadBatchLocation,
    BatchJob,
    BatchSettings,
    find_images,
    plan_batch,
    run_batch,
    run_batch_job,
)
from artstudio.engine import CancelToken, Engine, JobKind, JobState


def invert(rgba: np.ndarray) -> np.ndarray:
    out = rgba.copy()
    out[..., :3] = 255 - out[..., :3]
    return out


def _rgb(h=24, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def awkward(tmp_path):
    """A folder with every kind of input a real one holds."""
    src = tmp_path / "in"
    (src / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(_rgb()).save(src / "plain.png")
    Image.fromarray(_rgb(seed=1)).save(src / "sub" / "photo.jpg")
    Image.fromarray(_rgb(seed=2)).save(src / "sub" / "deeper" / "deep.webp")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: a 32x24 file shows as 24x32
    Image.fromarray(_rgb(seed=3)).save(src / "rotated.jpg", exif=exif)
    Image.fromarray(_rgb()[..., 0]).save(src / "grey.png")
    Image.fromarray((np.arange(24 * 32).reshape(24, 32) * 80).astype(np.uint16)).save(
        src / "sixteen.png")
    Image.fromarray(_rgb(seed=4)).convert("P").save(src / "palette.png")
    Image.fromarray(_rgb(seed=5)).convert("CMYK").save(src / "cmyk.jpg")
    rgba = np.dstack([_rgb(seed=6), np.full((24, 32), 100, np.uint8)])
    Image.fromarray(rgba).save(src / "alpha.png")
    Image.fromarray(_rgb(seed=7)).save(src / "café noir ü.png")
    (src / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    Image.new("L", (3000, 3000)).save(src / "bomb.png")  # 9 MP in a few KB
    (src / "notes.txt").write_text("not an image")
    Image.fromarray(_rgb()).save(src / ".hidden.png")
    os.symlink(src, src / "sub" / "loop")  # a link back up: must not be followed
    os.symlink(src / "missing.png", src / "dangling.png")
    return src


SETTINGS = BatchSettings(max_megapixels=1)  # so the 9 MP "bomb" is refused


def test_walk_skips_hidden_non_images_and_links(awkward):
    found = find_images(awkward, recursive=True)
    names = [p.name for p in found.images]
    assert "deep.webp" in names and "café noir ü.png" in names
    reasons = {p.name: r for p, r in found.skipped}
    assert reasons[".hidden.png"] == "hidden"
    assert reasons["notes.txt"] == "not an image file"
    assert "not followed" in reasons["loop"]
    assert "broken" in reasons["dangling.png"]
    assert len(find_images(awkward, recursive=False).images) < len(found.images)


def test_folder_batch_keeps_structure_and_reports_failures(awkward, tmp_path):
    out = tmp_path / "out"
    plan = plan_batch(awkward, out, recursive=True, fmt="png")
    report = run_batch(plan.items, invert, SETTINGS, skipped=plan.skipped)
    assert (out / "sub" / "deeper" / "deep.png").is_file()
    assert (out / "café noir ü.png").is_file()
    failed = {p.name: reason for p, reason in report.failed}
    assert set(failed) == {"corrupt.png", "bomb.png"}
    assert "megapixels" in failed["bomb.png"]
    assert failed["corrupt.png"]
    assert len(report.written) == 10 and report.exit_code == 1
    # odd inputs came through as the right RGBA images
    assert Image.open(out / "rotated.png").size == (24, 32)
    for name in ("grey", "sixteen", "palette", "cmyk", "plain"):
        assert Image.open(out / f"{name}.png").size == (32, 24), name
    alpha = np.asarray(Image.open(out / "alpha.png"))
    assert alpha.shape[2] == 4 and (alpha[..., 3] == 100).all()
    grey = np.asarray(Image.open(out / "grey.png").convert("RGB"))
    assert (grey[..., 0] == 255 - _rgb()[..., 0]).all()
    assert not list(out.rglob(".*"))  # no temporary files left
    summary = report.summary()
    assert "10 written" in summary and "corrupt.png" in summary
    path = tmp_path / "report.json"
    report.write_json(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {f["file"].rsplit("/", 1)[-1] for f in data["failed"]} == {"corrupt.png", "bomb.png"}
    assert any(s["reason"] == "hidden" for s in data["skipped"])


def test_resume_skips_existing_and_overwrite_redoes(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(4):
        Image.fromarray(_rgb(seed=i)).save(src / f"{i}.png")
    plan = plan_batch(src, out, fmt="png")
    first = run_batch(plan.items, invert)
    assert len(first.written) == 4
    (out / "2.png").unlink()  # as if the batch was killed before it
    calls = []

    def counting(rgba):
        calls.append(1)
        return invert(rgba)

    second = run_batch(plan.items, counting)
    assert len(second.written) == 1 and len(second.already_done) == 3 and len(calls) == 1
    third = run_batch(plan.items, counting, BatchSettings(overwrite=True))
    assert len(third.written) == 4 and third.exit_code == 0


def test_output_inside_or_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(_rgb()).save(src / "a.png")
    for bad in (src, src / "out", src / "x" / "y"):
        with pytest.raises(BadBatchLocation):
            plan_batch(src, bad)
    with pytest.raises(BadBatchLocation):
        plan_batch(src / "a.png", src / "a.png")


def test_formats_and_name_collisions(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    Image.fromarray(_rgb(seed=1)).save(src / "same.png")
    Image.fromarray(_rgb(seed=2)).save(src / "same.jpg")
    plan = plan_batch(src, out, fmt="jpg")
    assert sorted(it.target.name for it in plan.items) == ["same_jpg.jpg", "same_png.jpg"]
    report = run_batch(plan.items, invert, BatchSettings(quality=80))
    assert len(report.written) == 2
    assert Image.open(out / "same_png.jpg").format == "JPEG"
    webp = run_batch(plan_batch(src, tmp_path / "w", fmt="webp").items, invert)
    assert all(Image.open(p).format == "WEBP" for p in webp.written)


def test_a_failing_function_never_stops_the_batch(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(5):
        Image.fromarray(_rgb(seed=i)).save(src / f"{i}.png")

    def picky(rgba):
        if rgba[0, 0, 0] == _rgb(seed=2)[0, 0, 0]:
            raise ValueError("this one is not to my taste")
        return invert(rgba)

    report = run_batch(plan_batch(src, out).items, picky)
    assert len(report.written) == 4
    assert report.failed == [(src / "2.png", "ValueError: this one is not to my taste")]


def test_cancel_finishes_the_current_file_and_leaves_no_partials(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(8):
        Image.fromarray(_rgb(seed=i)).save(src / f"{i}.png")
    token = CancelToken()
    done = []

    def slow(rgba):
        done.append(1)
        if len(done) == 3:
            token.cancel()  # asked while the third image is in hand
        return invert(rgba)

    report = run_batch(plan_batch(src, out).items, slow, cancel=token)
    assert report.cancelled and report.exit_code == 130
    assert len(report.written) == 3 and report.not_started == 5
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png", "2.png"]
    for p in out.iterdir():
        Image.open(p).load()  # whole files only


def test_runs_as_an_engine_job_and_cancels(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(6):
        Image.fromarray(_rgb(seed=i)).save(src / f"{i}.png")
    plan = plan_batch(src, out)
    engine = Engine(pool_workers=1)
    try:
        job = BatchJob(plan.items, lambda cancel: invert, report_path=tmp_path / "r.json")
        handle = engine.submit(run_batch_job, job, kind=JobKind.BATCH)
        assert handle.wait(30) is JobState.DONE
        assert len(handle.result.written) == 6
        assert json.loads((tmp_path / "r.json").read_text())["written"] == 6

        gate, entered = threading.Event(), threading.Event()

        def blocking(rgba):
            entered.set()
            gate.wait(10)
            return invert(rgba)

        job = BatchJob(plan.items, lambda cancel: blocking, BatchSettings(overwrite=True))
        handle = engine.submit(run_batch_job, job, kind=JobKind.BATCH)
        # Cancel once an image is in flight: it is finished, the rest are not started.
        assert entered.wait(10)
        handle.cancel()
        gate.set()
        assert handle.wait(30) is JobState.CANCELLED
        assert handle.result is not None and handle.result.cancelled
        assert 1 <= len(handle.result.written) < 6
        assert not list(out.glob(".*"))
    finally:
        engine.shutdown()


class Rows:
    """A RowSource: the result is made while it is written."""

    def __init__(self, rgba, fail_at=None, cancel_at=None, token=None):
        self.image, self.fail_at, self.cancel_at, self.token = invert(rgba), fail_at, \
            cancel_at, token
        self.height, self.width = self.image.shape[:2]
        self.opaque = True

    def rows(self):
        for y in range(0, self.height, 4):
            if y == self.fail_at:
                raise ValueError("the network broke mid-way")
            if y == self.cancel_at:
                self.token.raise_if_cancelled()
            yield self.image[y:y + 4]

    def to_array(self):
        return self.image


@pytest.mark.parametrize("settings", [
    BatchSettings(stream_above=0),  # streamed to disk on the calling thread
    BatchSettings(),  # small: gathered, encoded on the encoder threads
], ids=["streamed", "gathered"])
def test_streamed_results_are_written_whole_failures_reported_cancel_clean(tmp_path, settings):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(4):
        Image.fromarray(_rgb(seed=i)).save(src / f"{i}.png")
    items = plan_batch(src, out).items
    report = run_batch(items, Rows, settings)
    assert len(report.written) == 4
    with Image.open(out / "1.png") as image:
        assert np.array_equal(np.asarray(image), 255 - _rgb(seed=1))
    jpg = run_batch(plan_batch(src, tmp_path / "j", fmt="jpg").items, Rows, settings)
    assert len(jpg.written) == 4  # gathered whole for encoders that need it

    broken = run_batch(plan_batch(src, tmp_path / "b").items,
                       lambda rgba: Rows(rgba, fail_at=8), settings)
    assert len(broken.failed) == 4 and "mid-way" in broken.failed[0][1]
    assert not [p for p in (tmp_path / "b").rglob("*") if p.is_file()]  # nor temporaries

    token = CancelToken()
    seen = []

    def cancel_in_second(rgba):
        seen.append(1)
        if len(seen) == 2:
            token.cancel()
        return Rows(rgba, cancel_at=8, token=token)

    cancelled = run_batch(plan_batch(src, tmp_path / "c").items, cancel_in_second, settings,
                          cancel=token)
    assert cancelled.cancelled and len(cancelled.written) == 1
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["0.png"]  # no partials



def test_outputs_that_are_links_are_judged_by_where_they_lead(tmp_path):
    """Planning resolves each output folder once, not each file: a planned
    output that is a link into the input is still refused, and a link whose
    file is gone does not count as done."""
    from artstudio.batch.existing import existing_targets
    from artstudio.batch.naming import BadBatchLocation

    src, out = tmp_path / "in", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b.png"):
        Image.fromarray(_rgb()).save(src / name)
    (out / "sub").mkdir(parents=True)
    os.symlink(src / "sub" / "b.png", out / "sub" / "b.png")
    with pytest.raises(BadBatchLocation, match="inside the input folder"):
        plan_batch(src, out, recursive=True)
    (out / "sub" / "b.png").unlink()
    os.symlink(tmp_path / "gone.png", out / "sub" / "b.png")
    items = plan_batch(src, out, recursive=True).items
    assert [it.target.relative_to(out).as_posix() for it in items] == ["a.png", "sub/b.png"]
    (out / "a.png").write_bytes(b"")
    assert existing_targets(it.target for it in items) == {str(out / "a.png")}
