"""Starting the window where the display that is set does not answer (a
DISPLAY left from an ended session, a closed ssh tunnel): one clear line and
exit 2, where Qt itself aborts after a screenful of plugin names."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from artstudio.app import display_silent

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 and Wayland")


def unused_display() -> int:
    while True:
        number = random.randrange(300, 900)
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number


def test_an_x_display_nobody_serves_is_named():
    number = unused_display()
    message = display_silent({"DISPLAY": f":{number}"}, "linux")
    assert message and f"DISPLAY=:{number} does not answer" in message


def test_an_x_server_that_listens_is_fine():
    number = unused_display()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(f"\0/tmp/.X11-unix/X{number}")  # Linux's abstract name, as Xvfb makes
        server.listen(1)
        assert display_silent({"DISPLAY": f":{number}.0"}, "linux") is None


def test_a_wayland_socket_nobody_serves_is_named(tmp_path):
    environ = {"WAYLAND_DISPLAY": "wayland-7", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert "WAYLAND_DISPLAY=wayland-7 does not answer" in display_silent(environ, "linux")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "wayland-7"))
        server.listen(1)
        assert display_silent(environ, "linux") is None


def test_other_platforms_and_offscreen_are_not_checked():
    assert display_silent({"DISPLAY": ":1"}, "darwin") is None
    assert display_silent({"DISPLAY": f":{unused_display()}", "QT_QPA_PLATFORM": "offscreen"},
                          "linux") is None


def test_the_app_says_so_and_exits_2_instead_of_aborting(tmp_path):
    env = {**os.environ, "DISPLAY": f":{unused_display()}", "WAYLAND_DISPLAY": "",
           "QT_QPA_PLATFORM": "", "ARTSTUDIO_HOME": str(tmp_path)}
    env.pop("ARTSTUDIO_NO_QTWIDGETS", None)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py")], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert proc.stderr.count("\n") == 1 and "does not answer" in proc.stderr
