"""The command line: help, unknown flags, self-test, and the no-display message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from artstudio.app import display_problem
from artstudio.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args, env=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def exit_code(argv) -> int:
    """What the process would exit with: main's return value, or the code of
    the SystemExit that argparse raises."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def test_help_lists_usage_and_commands(capsys):
    assert exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    assert "artstudio COMMAND" in out and "--self-test" in out and "self-test" in out


def test_unknown_flag_is_a_clear_error(capsys):
    assert exit_code(["--paint-faster"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --paint-faster" in err
    assert "Traceback" not in err


def test_self_test_prints_one_line_per_capability():
    from artstudio.selftest.runner import CAPABILITIES

    proc = run("--self-test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for capability in CAPABILITIES:
        assert any(line.startswith("ok") and f" {capability.name} " in line for line in lines)
    assert lines[-1] == f"self-test: {len(CAPABILITIES)} passed, 0 failed"


def test_self_test_fails_when_a_capability_fails(monkeypatch, capsys):
    from artstudio.selftest import runner as selftest

    monkeypatch.setattr(selftest, "CAPABILITIES", [
        selftest.Capability("settings", "artstudio.selftest.foundation:check_settings"),
        selftest.Capability("missing", "artstudio.selftest.foundation:no_such_check"),
    ])
    assert main(["--self-test"]) == 1
    out = capsys.readouterr().out
    assert "FAIL missing" in out and "self-test: 1 passed, 1 failed" in out


def test_no_display_message_instead_of_qt_abort():
    proc = run(env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "no display found" in proc.stderr and "xvfb-run" in proc.stderr


def test_display_detection_rules():
    assert display_problem({}, "linux")
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert display_problem({}, "darwin") is None


def test_unwritable_log_folder_falls_back_to_terminal(tmp_path, monkeypatch):
    from artstudio.logs import setup_logging

    blocker = tmp_path / "home"
    blocker.write_text("a file where the log folder should be")
    monkeypatch.setenv("ARTSTUDIO_HOME", str(blocker))
    log_file, note = setup_logging()
    assert log_file is None and "not writable" in note
