"""The bridge delivers engine events on the GUI thread, newest state last."""

from __future__ import annotations

import threading

from artstudio.engine import Engine, JobEvent, JobKind, JobState
from artstudio.ui.engine_bridge import EngineBridge


def _event(seq, state):
    return JobEvent(1, JobKind.OTHER, "t", state, None, None, None, None, seq)


def test_events_arrive_on_gui_thread(qtbot):
    engine = Engine(pool_workers=1)
    bridge = EngineBridge(engine)
    threads = []
    bridge.job_changed.connect(lambda e: threads.append(threading.current_thread()))
    with qtbot.waitSignal(bridge.job_finished, timeout=5000) as finished:
        engine.submit(lambda p, pr, c: 7)
    assert finished.args[0].result == 7
    assert threads and all(t is threading.main_thread() for t in threads)
    bridge.detach()
    engine.shutdown()


def test_stale_events_are_dropped(qtbot):
    engine = Engine(pool_workers=1)
    bridge = EngineBridge(engine)
    seen = []
    bridge.job_changed.connect(lambda e: seen.append(e.state))
    bridge._deliver(_event(3, JobState.DONE))
    bridge._deliver(_event(1, JobState.QUEUED))  # overtaken: must not undo DONE
    assert seen == [JobState.DONE]
    bridge.detach()
    engine.shutdown()
