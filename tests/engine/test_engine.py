"""The job engine: lanes, ordering, cancellation, errors and events."""

from __future__ import annotations

import threading
import time

import pytest

from artstudio.engine import Engine, JobKind, JobState, Lane, UserFacingError


@pytest.fixture
def engine():
    eng = Engine(pool_workers=3)
    yield eng
    assert eng.shutdown(timeout=10)


def stepping_job(steps=5, delay=0.01, log=None, name=None):
    def run(params, progress, cancel):
        for i in range(steps):
            if log is not None:
                log.append((name, "step", i, threading.current_thread().name))
            progress(i + 1, steps, f"step {i + 1}")
            time.sleep(delay)
        return name or "done"

    return run


def test_job_runs_and_returns_result(engine):
    handle = engine.submit(lambda p, progress, cancel: p * 2, 21, title="double")
    assert handle.wait(5) is JobState.DONE
    assert handle.result == 42


def test_accelerator_lane_runs_in_submission_order_one_at_a_time(engine):
    active = []
    peak = []
    order = []
    lock = threading.Lock()

    def run(name, progress, cancel):
        with lock:
            active.append(name)
            peak.append(len(active))
            order.append(name)
        time.sleep(0.02)
        with lock:
            active.remove(name)
        return name

    handles = [engine.submit(run, f"job{i}", lane=Lane.ACCELERATOR) for i in range(6)]
    for h in handles:
        assert h.wait(5) is JobState.DONE
    assert order == [f"job{i}" for i in range(6)]
    assert max(peak) == 1


def test_pool_runs_jobs_in_parallel(engine):
    barrier = threading.Barrier(3, timeout=5)

    def run(params, progress, cancel):
        barrier.wait()  # only passes if three jobs run at the same time
        return True

    handles = [engine.submit(run, None, lane=Lane.POOL) for _ in range(3)]
    assert all(h.wait(5) is JobState.DONE for h in handles)


def test_pool_does_not_wait_for_busy_accelerator(engine):
    gate = threading.Event()
    started = threading.Event()

    def slow_job(params, progress, cancel):
        started.set()
        return gate.wait(5)

    slow = engine.submit(slow_job, None, lane=Lane.ACCELERATOR)
    assert started.wait(5)
    quick = engine.submit(lambda p, pr, c: "quick", None, lane=Lane.POOL)
    assert quick.wait(5) is JobState.DONE
    assert slow.state is JobState.RUNNING
    gate.set()
    assert slow.wait(5) is JobState.DONE


def test_cancel_queued_job_never_runs(engine):
    gate = threading.Event()
    ran = []
    blocker = engine.submit(lambda p, pr, c: gate.wait(5), None, lane=Lane.ACCELERATOR)
    queued = engine.submit(lambda p, pr, c: ran.append(1), None, lane=Lane.ACCELERATOR)
    assert queued.state is JobState.QUEUED
    assert queued.cancel() is True
    assert queued.wait(1) is JobState.CANCELLED
    gate.set()
    blocker.wait(5)
    time.sleep(0.05)
    assert ran == []


def test_cancel_running_job_stops_at_next_step(engine):
    started = threading.Event()
    steps_done = []

    def run(params, progress, cancel):
        for i in range(1000):
            progress(i, 1000)  # raises Cancelled once the flag is set
            steps_done.append(i)
            started.set()
            time.sleep(0.005)
        return "finished"

    handle = engine.submit(run, None, lane=Lane.ACCELERATOR)
    assert started.wait(5)
    handle.cancel()
    at_cancel = len(steps_done)
    assert handle.wait(5) is JobState.CANCELLED
    assert handle.result is None
    assert len(steps_done) <= at_cancel + 1


def test_job_that_checks_flag_and_returns_counts_as_cancelled(engine):
    started = threading.Event()

    def run(params, progress, cancel):
        started.set()
        while not cancel:
            time.sleep(0.002)
        return "partial"

    handle = engine.submit(run)
    started.wait(5)
    handle.cancel()
    assert handle.wait(5) is JobState.CANCELLED


def test_error_becomes_message_and_engine_keeps_working(engine, caplog):
    def broken(params, progress, cancel):
        raise ValueError("the seed must be a number")

    failed = engine.submit(broken, title="broken")
    assert failed.wait(5) is JobState.FAILED
    assert failed.error == "ValueError: the seed must be a number"
    record = engine.get(failed.id)
    assert "Traceback" in record.error_detail
    assert any("broken" in r.getMessage() for r in caplog.records)
    after = engine.submit(lambda p, pr, c: "still alive", lane=Lane.ACCELERATOR)
    assert after.wait(5) is JobState.DONE


def test_user_facing_and_out_of_memory_messages(engine):
    def user_error(params, progress, cancel):
        raise UserFacingError("model.safetensors is truncated")

    def oom(params, progress, cancel):
        raise MemoryError()

    a = engine.submit(user_error)
    b = engine.submit(oom)
    a.wait(5)
    b.wait(5)
    assert a.error == "model.safetensors is truncated"
    assert b.error.startswith("Out of memory") and "smaller" in b.error


def test_events_report_each_state_and_progress(engine):
    events = []
    done = threading.Event()

    def listen(event):
        events.append(event)
        if event.state.finished:
            done.set()

    engine.subscribe(listen)
    engine.submit(stepping_job(steps=3, delay=0.06), kind=JobKind.SELF_TEST, title="steps")
    assert done.wait(5)
    states = [e.state for e in events]
    assert states[0] is JobState.QUEUED
    assert JobState.RUNNING in states
    assert states[-1] is JobState.DONE
    steps = [e.progress.step for e in events if e.progress is not None]
    assert steps == sorted(steps) and steps[-1] == 3
    assert events[-1].result == "done"
    assert all(e.kind is JobKind.SELF_TEST and e.title == "steps" for e in events)
    with_eta = [e for e in events if e.eta_seconds is not None]
    assert with_eta and with_eta[0].eta_seconds > 0


def test_progress_events_are_rate_limited(engine):
    events = []
    engine.subscribe(events.append)
    handle = engine.submit(stepping_job(steps=2000, delay=0))
    handle.wait(10)
    progress_events = [e for e in events if e.state is JobState.RUNNING and e.progress]
    assert len(progress_events) < 200
    assert progress_events[-1].progress.step == 2000


def test_failing_listener_does_not_break_jobs(engine):
    engine.subscribe(lambda e: 1 / 0)
    handle = engine.submit(lambda p, pr, c: "ok")
    assert handle.wait(5) is JobState.DONE


def test_queue_lists_every_state(engine):
    gate = threading.Event()
    running = engine.submit(lambda p, pr, c: gate.wait(5), lane=Lane.ACCELERATOR)
    queued = engine.submit(lambda p, pr, c: None, lane=Lane.ACCELERATOR)
    cancelled = engine.submit(lambda p, pr, c: None, lane=Lane.ACCELERATOR)
    cancelled.cancel()
    failed = engine.submit(lambda p, pr, c: 1 / 0)
    failed.wait(5)
    time.sleep(0.05)
    states = {r.id: r.state for r in engine.jobs()}
    assert states[running.id] is JobState.RUNNING
    assert states[queued.id] is JobState.QUEUED
    assert states[cancelled.id] is JobState.CANCELLED
    assert states[failed.id] is JobState.FAILED
    gate.set()
    queued.wait(5)
    engine.clear_finished()
    assert engine.jobs() == []


def test_shutdown_cancels_running_jobs_and_refuses_new_ones():
    eng = Engine(pool_workers=1)
    started = threading.Event()

    def forever(params, progress, cancel):
        started.set()
        i = 0
        while True:
            progress(i, 0)
            time.sleep(0.002)
            i += 1

    handle = eng.submit(forever, lane=Lane.ACCELERATOR)
    started.wait(5)
    assert eng.shutdown(timeout=5)
    assert handle.state is JobState.CANCELLED
    with pytest.raises(RuntimeError):
        eng.submit(forever)


def test_event_sequence_numbers_increase_per_job(engine):
    events = []
    engine.subscribe(events.append)
    engine.submit(stepping_job(steps=3, delay=0.06)).wait(5)
    seqs = [e.seq for e in events]
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    final = max(events, key=lambda e: e.seq)
    assert final.state is JobState.DONE


def test_quick_job_reports_queued_first_and_done_once(engine):
    for _ in range(20):
        events = []
        engine.subscribe(events.append)
        handle = engine.submit(lambda p, pr, c: "fast")
        handle.wait(5)
        time.sleep(0.01)
        mine = sorted((e for e in events if e.job_id == handle.id), key=lambda e: e.seq)
        assert mine[0].state is JobState.QUEUED
        assert [e.state for e in mine].count(JobState.DONE) == 1
        engine._listeners.clear()


def test_job_submitted_during_shutdown_never_hangs():
    eng = Engine(pool_workers=1)
    assert eng.shutdown(timeout=5)
    with pytest.raises(RuntimeError):
        eng.submit(lambda p, pr, c: None)
