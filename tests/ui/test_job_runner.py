"""JobRunner: the one way UI code runs a job, with its answer on the GUI thread."""

from __future__ import annotations

import threading

import pytest

from artstudio.engine import Engine
from artstudio.ui.engine_bridge import EngineBridge
from artstudio.ui.job_runner import JobRunner


@pytest.fixture
def runner():
    engine = Engine(pool_workers=1)
    bridge = EngineBridge(engine)
    yield JobRunner(bridge)
    bridge.detach()
    engine.shutdown()


def test_done_and_failed_reach_their_callbacks_on_the_gui_thread(runner, qtbot):
    answers = []
    runner.run(lambda p, progress, cancel: p * 2, 21, title="double",
               on_done=lambda r: answers.append((r, threading.current_thread())))
    runner.run(lambda p, progress, cancel: 1 / 0, title="broken", on_failed=answers.append)
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=5000)
    assert answers[0] == (42, threading.main_thread())
    assert answers[1] == "ZeroDivisionError: division by zero"


def test_a_cancelled_job_hands_on_what_it_returned(runner, qtbot):
    started, answers = threading.Event(), []

    def batch(params, progress, cancel):
        started.set()
        while not cancel.cancelled:
            threading.Event().wait(0.01)
        return "report of 3 images"  # a folder batch returns its report when cancelled

    handle = runner.run(batch, title="batch", on_done=answers.append,
                        on_cancelled=lambda result: answers.append(("cancelled", result)))
    assert started.wait(5)
    handle.cancel()
    qtbot.waitUntil(lambda: bool(answers), timeout=5000)
    assert answers == [("cancelled", "report of 3 images")]


def test_forgotten_jobs_run_on_without_calling_back(runner, qtbot):
    answers = []
    gate = threading.Event()
    handle = runner.run(lambda p, progress, cancel: gate.wait(5), title="slow",
                        on_done=answers.append)
    runner.forget(handle)
    gate.set()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=5000)
    qtbot.wait(50)  # let the finished event reach the GUI thread
    assert answers == []
