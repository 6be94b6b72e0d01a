"""A second `artstudio FILE` hands FILE to the window already open, or opens
its own when none answers; and a second window never touches the first
one's autosave. The second Artstudio is a real process, started the way a
file manager starts it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artstudio import paths
from artstudio.engine import JobState
from artstudio.logs import LOG_NAME
from artstudio.single_instance import instance_key
from artstudio.ui import instance_server
from artstudio.ui.instance_server import InstanceServer, hand_over

ROOT = Path(__file__).resolve().parents[2]


def second_artstudio(*args: str) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    env.pop("ARTSTUDIO_NO_QTWIDGETS", None)
    return subprocess.Popen([sys.executable, "-m", "artstudio", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(qtbot, proc: subprocess.Popen, timeout_s: float = 90) -> tuple[str, str]:
    """Wait for `proc` while this process's event loop runs (it may be serving it)."""
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=int(timeout_s * 1000))
    return proc.communicate()


@pytest.fixture
def picture(tmp_path) -> Path:
    path = tmp_path / "sunset.png"
    Image.fromarray(np.full((30, 40, 3), (200, 90, 20), np.uint8)).save(path)
    return path


def test_a_second_artstudio_hands_its_file_to_the_open_window(studio, qtbot, picture):
    assert studio.serve_other_instances(instance_key())
    proc = second_artstudio(str(picture))
    _out, err = finished(qtbot, proc)
    assert proc.returncode == 0, err
    assert "opening sunset.png in the Artstudio window already open" in err
    qtbot.waitUntil(lambda: studio.window.documents.title == "sunset", timeout=20000)
    assert studio.window.doc.size == (40, 30)
    assert tuple(studio.window.doc.composite()[0, 0]) == (200, 90, 20, 255)


def test_with_nobody_listening_the_hand_over_says_so():
    start = time.monotonic()
    assert hand_over(instance_key(), ["x.png"]) is False
    assert time.monotonic() - start < 2


def test_a_listener_that_never_answers_is_given_up_on(qapp, monkeypatch):
    from PySide6.QtNetwork import QLocalServer

    mute = QLocalServer()
    assert mute.listen(instance_key())  # accepts, never replies (a frozen window)
    monkeypatch.setattr(instance_server, "REPLY_TIMEOUT_MS", 300)
    try:
        assert hand_over(instance_key(), ["x.png"]) is False
    finally:
        mute.close()


def test_the_first_window_keeps_the_socket_and_a_crashed_one_leaves_it_free(qapp, tmp_path):
    key = instance_key()
    first = InstanceServer(key, lambda files: None)
    assert first.listen()
    second = InstanceServer(key, lambda files: None)
    assert not second.listen()  # the first one answers: it keeps receiving
    first.close()
    # A window killed while listening leaves its socket file behind.
    script = ("import sys, time\nfrom PySide6.QtNetwork import QLocalServer\n"
              "s = QLocalServer()\nprint(s.listen(sys.argv[1]), flush=True)\ntime.sleep(60)\n")
    crashed = subprocess.Popen([sys.executable, "-c", script, key], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert crashed.stdout.readline().strip() == "True"
    finally:
        crashed.kill()
        crashed.wait(timeout=30)
    assert second.listen()  # nobody answers the stale one: taken over
    second.close()


def test_a_second_window_leaves_the_first_ones_autosave_intact(studio, qtbot, artstudio_home):
    from artstudio.document.create import new_document

    studio.window.documents.set_document(new_document(32, 32))
    studio.window.doc.add_layer(name="Unsaved work")
    assert studio.window.documents.autosave_now().wait(10) is JobState.DONE
    folder = paths.autosave_dir()
    autosave_id = studio.window.doc.autosave_id

    def digest():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.iterdir())}

    before = digest()
    assert f"{autosave_id}.ora" in before and f"{autosave_id}.json" in before

    proc = second_artstudio()  # no file: its own window, its own start-up and recovery
    log = artstudio_home / "logs" / LOG_NAME
    qtbot.waitUntil(lambda: log.is_file() and "for recovery" in log.read_text(), timeout=90000)
    proc.send_signal(signal.SIGTERM)  # and it quits
    _out, err = finished(qtbot, proc)
    assert proc.returncode == 0, err
    assert "0 autosave(s) to offer for recovery" in log.read_text()
    assert digest() == before  # byte for byte, and nothing of the first one's removed

    studio.window.doc.add_layer(name="More work")  # the first one goes on autosaving
    assert studio.window.documents.autosave_now().wait(10) is JobState.DONE
    assert digest()[f"{autosave_id}.ora"] != before[f"{autosave_id}.ora"]
