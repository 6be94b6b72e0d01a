"""A processor that asks for several calls at once (`calls_at_once`, the
style networks on a CPU run two images as two streams) gets them: two
images in the processor together, never more, every output written from its
own input, failures and cancelling as with one call at a time."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from artstudio.batch import BatchSettings, plan_batch, run_batch
from artstudio.engine import CancelToken


def _photo(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (20 + seed, 30, 3), dtype=np.uint8)


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(7):
        Image.fromarray(_photo(i)).save(src / f"p{i}.png")
    return src


class Overlapping:
    """Inverts, after waiting (a bounded time) for a second call to arrive:
    with one call at a time the waits time out and the images fail."""

    def __init__(self, calls: int, fail: str = "", meet: bool = True) -> None:
        self.calls_at_once = calls
        self.meet = meet  # wait for a partner (False: a cancel may leave one alone)
        self.barrier = threading.Barrier(calls, timeout=10)
        self.lock = threading.Lock()
        self.inside = self.most = 0
        self.threads: set[str] = set()
        self.fail = fail

    def __call__(self, rgba: np.ndarray) -> np.ndarray:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.threads.add(threading.current_thread().name)
        try:
            if self.meet and rgba.shape[0] < 26:  # the last image has no partner (7 is odd)
                self.barrier.wait()
            if self.fail and rgba.shape[0] == int(self.fail):
                raise ValueError("this one is broken")
            out = rgba.copy()
            out[..., :3] = 255 - out[..., :3]
            return out
        finally:
            with self.lock:
                self.inside -= 1


def test_two_calls_at_once_each_output_from_its_own_input(folder, tmp_path):
    plan = plan_batch(folder, tmp_path / "out")
    process = Overlapping(2)
    report = run_batch(plan.items, process, BatchSettings())
    assert len(report.written) == 7 and not report.failed
    assert process.most == 2 and len(process.threads) == 2
    for i in range(7):
        with Image.open(tmp_path / "out" / f"p{i}.png") as im:
            np.testing.assert_array_equal(np.asarray(im.convert("RGB")), 255 - _photo(i))


def test_a_failure_in_one_of_two_calls_is_that_files_failure_only(folder, tmp_path):
    plan = plan_batch(folder, tmp_path / "out")
    report = run_batch(plan.items, Overlapping(2, fail="23"), BatchSettings())
    assert [p.name for p, _why in report.failed] == ["p3.png"]
    assert "broken" in report.failed[0][1]
    assert len(report.written) == 6 and not (tmp_path / "out" / "p3.png").exists()


def test_cancelling_finishes_the_images_in_hand_and_starts_no_more(folder, tmp_path):
    plan = plan_batch(folder, tmp_path / "out")
    cancel = CancelToken()
    process = Overlapping(2, meet=False)

    def progress(step, total, message):
        if step >= 2:
            cancel.cancel()

    report = run_batch(plan.items, process, BatchSettings(), progress, cancel)
    written = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert report.cancelled and not report.failed and 2 <= len(written) < 7
    assert len(report.written) == len(written)
    assert report.not_started == 7 - len(written)
    assert process.most <= 2
    assert not list((tmp_path / "out").glob(".*"))  # no partial file left behind


def test_a_ray_actor_runs_one_image_at_a_time(folder, tmp_path):
    """On a cluster the actors are the parallelism, each on the CPUs Ray
    reserved for it: an actor gives its processor one image at a time."""
    from artstudio.batch.ray_runner import BatchActor

    made = []

    def make_processor(cancel):
        made.append(Overlapping(2, meet=False))
        return made[-1]

    actor = BatchActor(make_processor, BatchSettings(), str(tmp_path / "stop"))
    plan = plan_batch(folder, tmp_path / "out")
    rows = actor({"source": [str(i.source) for i in plan.items],
                  "target": [str(i.target) for i in plan.items],
                  "index": list(range(len(plan.items)))})
    assert rows["outcome"] == ["written"] * 7
    assert made[0].most == 1
