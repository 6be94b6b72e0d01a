"""The live scheduler: one run in flight, one pending, stale results dropped."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.params import GenerationParams
from artstudio.engine import Engine, JobState, RequestRefused
from artstudio.live.session import EngineSubmitter, LiveRequest, LiveSession


class FakeHandle:
    def __init__(self):
        self.cancel_calls = 0

    def cancel(self) -> bool:
        self.cancel_calls += 1
        return True


class FakeSubmit:
    """Runs nothing: the test ends each submitted run as it likes."""

    def __init__(self):
        self.runs: list[tuple[GenerationParams, FakeHandle, object]] = []

    def __call__(self, fn, params, title, on_finished):
        handle = FakeHandle()
        self.runs.append((params, handle, on_finished))
        return handle

    def finish(self, index: int, state: JobState, result="picture", error=None):
        self.runs[index][2](state, result if state is JobState.DONE else None, error)


class Frame:
    """Stands for the frame: each snapshot says which content it holds."""

    def __init__(self):
        self.content = 0
        self.refusal = ""

    def snapshot(self) -> LiveRequest:
        if self.refusal:
            raise RequestRefused(self.refusal)
        return LiveRequest(GenerationParams(model="m", prompt=f"content {self.content}",
                                            seed=None, seed_mode="increment", count=4),
                           target=self.content)


def make_session(submit, frame, seed=7):
    results, pauses = [], []
    session = LiveSession(submit, frame.snapshot, results.append, pauses.append, seed=seed)
    return session, results, pauses


def test_quick_changes_cancel_the_run_once_and_leave_one_pending_the_newest():
    submit, frame = FakeSubmit(), Frame()
    session, results, _ = make_session(submit, frame)
    session.start()
    assert len(submit.runs) == 1
    for content in range(1, 6):  # five strokes end while the first run goes on
        frame.content = content
        session.changed()
    assert len(submit.runs) == 1  # nothing queued behind the running one
    assert submit.runs[0][1].cancel_calls == 1
    assert session.pending
    submit.finish(0, JobState.CANCELLED)
    assert len(submit.runs) == 2  # the pending one, and only it
    assert submit.runs[1][0].prompt == "content 5"
    submit.finish(1, JobState.DONE)
    assert [r.request.target for r in results] == [5]
    assert results[0].revision == session.revision
    assert (session.stats.started, session.stats.cancelled, session.stats.finished) == (2, 1, 1)
    assert not session.busy and not session.pending


def test_a_run_that_finishes_after_a_newer_change_is_dropped():
    submit, frame = FakeSubmit(), Frame()
    session, results, _ = make_session(submit, frame)
    session.start()
    frame.content = 1
    session.changed()  # asks the first run to stop, but it was already decoding
    submit.finish(0, JobState.DONE, result="old picture")
    assert results == []
    assert session.stats.stale == 1
    submit.finish(1, JobState.DONE, result="new picture")
    assert [r.result for r in results] == ["new picture"]


def test_the_seed_stays_fixed_while_live_and_new_seed_changes_it():
    submit, frame = FakeSubmit(), Frame()
    session, _, _ = make_session(submit, frame, seed=1234)
    session.start()
    submit.finish(0, JobState.DONE)
    frame.content = 1
    session.changed()
    submit.finish(1, JobState.DONE)
    seeds = {(p.seed, p.seed_mode, p.count) for p, _, _ in submit.runs}
    assert seeds == {(1234, "fixed", 1)}
    new = session.new_seed()
    assert submit.runs[-1][0].seed == new
    assert new != 1234 or session.new_seed() != 1234  # a second draw cannot repeat forever


def test_a_failed_run_pauses_live_with_its_message_until_resumed():
    submit, frame = FakeSubmit(), Frame()
    session, _results, pauses = make_session(submit, frame)
    session.start()
    submit.finish(0, JobState.FAILED, error="Out of memory. Try a smaller image size")
    assert pauses == ["Out of memory. Try a smaller image size"]
    assert session.paused
    frame.content = 1
    session.changed()  # painting goes on; nothing runs while paused
    assert len(submit.runs) == 1
    session.resume()
    assert len(submit.runs) == 2 and submit.runs[1][0].prompt == "content 1"


def test_nothing_to_snapshot_refuses_the_start_and_pauses_a_running_session():
    submit, frame = FakeSubmit(), Frame()
    frame.refusal = "Choose a model first"
    session, _, pauses = make_session(submit, frame)
    with pytest.raises(RequestRefused, match="Choose a model"):
        session.start()
    assert not session.active and submit.runs == []
    frame.refusal = ""
    session.start()
    submit.finish(0, JobState.DONE)
    frame.refusal = "The generation frame is outside the canvas"
    session.changed()
    assert pauses == ["The generation frame is outside the canvas"]


def test_stop_cancels_the_run_and_delivers_nothing_more():
    submit, frame = FakeSubmit(), Frame()
    session, results, _ = make_session(submit, frame)
    session.start()
    session.stop()
    assert submit.runs[0][1].cancel_calls == 1
    submit.finish(0, JobState.DONE)
    assert results == [] and not session.active


# ---- through the real engine, with the tiny model -----------------------------

@pytest.fixture(scope="module")
def tiny_sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("live-models"), kinds=("sd1",))["sd1"]


@pytest.fixture
def count_loads(monkeypatch):
    from artstudio.diffusion import loading
    from artstudio.engine.model_cache import shared_cache

    shared_cache().unload_all()
    loads = []
    real = loading.load_model

    def counting(*args, **kwargs):
        loads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "load_model", counting)
    yield loads
    shared_cache().unload_all()


def picture(value: int, size=(64, 64)) -> Image.Image:
    return Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8), "RGB")


def test_many_runs_load_the_model_once_and_a_stale_run_is_cancelled(tiny_sd1, count_loads):
    from artstudio.live.run import live_run

    engine = Engine(pool_workers=2)
    submitter = EngineSubmitter(engine)
    first_started, release = threading.Event(), threading.Event()
    content = {"value": 10}

    def held_first(params, progress, cancel):
        if not first_started.is_set():  # the first run waits, so the strokes overtake it
            first_started.set()
            release.wait(30)
        return live_run(params, progress, cancel)

    def snapshot():
        return LiveRequest(GenerationParams(model=str(tiny_sd1["diffusers"]), prompt="a hill",
                                            steps=2, strength=0.5,
                                            init_image=picture(content["value"]),
                                            device="cpu"), target=content["value"])

    results, done = [], threading.Event()

    def got(result):
        results.append(result)
        done.set()

    session = LiveSession(submitter, snapshot, got, seed=3, run=held_first)
    try:
        session.start()
        assert first_started.wait(30)
        for value in (40, 80, 120):
            content["value"] = value
            session.changed()
        assert session.pending
        release.set()
        assert done.wait(60)
        engine_jobs = [j for j in engine.jobs() if j.title.startswith("Live")]
        assert [j.state for j in engine_jobs] == [JobState.CANCELLED, JobState.DONE]
        assert [r.request.target for r in results] == [120]
        assert session.stats.cancelled == 1 and session.stats.stale == 0
        for value in (150, 200, 250):  # runs that follow one another load nothing
            done.clear()
            content["value"] = value
            session.changed()
            assert done.wait(60)
        assert [r.request.target for r in results] == [120, 150, 200, 250]
        assert len(count_loads) == 1
        assert results[-1].result.images[0].size == (64, 64)
    finally:
        session.stop()
        submitter.close()
        engine.shutdown()
