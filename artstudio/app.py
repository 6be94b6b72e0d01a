"""Starting the window: display check, QApplication, engine, main window.

Heavy modules (torch, diffusers) are not imported here: the window shows
first, and the device probe runs as a background job.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence

from artstudio import APP_NAME, __version__

log = logging.getLogger(__name__)


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt could not open a window here, or None. Qt itself aborts the
    process on a missing display, so we check first and say how to fix it."""
    if not platform.startswith("linux"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, ...: the user chose a platform that needs no display
    has_x = bool(environ.get("DISPLAY"))
    has_wayland = bool(environ.get("WAYLAND_DISPLAY"))
    if (qpa.startswith("xcb") and has_x) or (qpa.startswith("wayland") and has_wayland):
        return None
    if not qpa and (has_x or has_wayland):
        return None
    from artstudio.resources import bundle_root

    command = "artstudio" if bundle_root() else "python main.py"  # installed, or a checkout
    return ("artstudio: no display found (DISPLAY and WAYLAND_DISPLAY are unset); run it in a "
            f"desktop session, under a virtual one with `xvfb-run -a {command}`, or set "
            "QT_QPA_PLATFORM=offscreen for a windowless check")


def _count(files: Sequence[str]) -> str:
    return os.path.basename(files[0]) if len(files) == 1 else f"{len(files)} files"


def quit_on_terminate(app) -> Callable[[], None]:
    """SIGTERM (a desktop logging out, `kill`) quits the way closing does,
    without asking: running jobs stop, an autosave being written finishes,
    and the open document's autosave stays to be recovered at the next start.
    Python runs signal handlers only between bytecodes, so a timer gives it
    the chance while Qt's loop waits. Returns what undoes it."""
    from PySide6.QtCore import QTimer

    if not hasattr(signal, "SIGTERM"):
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda *_: app.quit())
    tick = QTimer(interval=250)
    tick.timeout.connect(lambda: None)
    tick.start()

    def restore() -> None:
        tick.stop()
        signal.signal(signal.SIGTERM, previous)

    return restore


def _x_answers(display: str) -> bool:
    """Does an X server accept connections at `display` (":1", "host:10.0")?"""
    host, _, number = display.rpartition(":")
    number = number.split(".")[0]
    if not number.isdigit():
        return True  # a form we do not know: let Qt try
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        # Servers listen on the file, on Linux's abstract name for it, or both.
        return _answers(socket.AF_UNIX, path) or _answers(socket.AF_UNIX, "\0" + path)
    return _answers(socket.AF_INET, (host, 6000 + int(number)))


def _wayland_answers(name: str, environ) -> bool:
    path = name if os.path.isabs(name) else os.path.join(environ.get("XDG_RUNTIME_DIR", ""), name)
    return _answers(socket.AF_UNIX, path)


def _answers(family, address) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(address)
        except (FileNotFoundError, ConnectionRefusedError, TimeoutError, socket.gaierror):
            return False
        except OSError:
            return True  # refused for another reason (permissions): Qt will say it better
    return True


def display_silent(environ=os.environ, platform: str = sys.platform) -> str | None:
    """Why the display that is set does not answer (a DISPLAY left over from
    an ended session, a closed ssh tunnel), or None. Qt aborts the process on
    that too, after a screenful of plugin names."""
    if not platform.startswith("linux") or display_problem(environ, platform):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None
    x, wayland = environ.get("DISPLAY", ""), environ.get("WAYLAND_DISPLAY", "")
    use_x = bool(x) and not qpa.startswith("wayland")
    use_wayland = bool(wayland) and not qpa.startswith("xcb")
    if (use_x and _x_answers(x)) or (use_wayland and _wayland_answers(wayland, environ)):
        return None
    named = " or ".join(f"{k}={v}" for k, v, used in (("DISPLAY", x, use_x),
                                                        ("WAYLAND_DISPLAY", wayland, use_wayland))
                        if used)
    return (f"artstudio: the display {named} does not answer (its session may have ended); "
            "start Artstudio from the desktop, or give it a running display")


def run_gui(files: Sequence[str] = (), log_level: int = logging.INFO) -> int:
    problem = display_problem() or display_silent()
    if problem:
        print(problem, file=sys.stderr)
        return 2

    from artstudio.logs import setup_logging

    log_file, log_note = setup_logging(log_level)
    log.info("%s %s starting", APP_NAME, __version__)

    from PySide6.QtWidgets import QApplication

    from artstudio.single_instance import instance_key
    from artstudio.ui.instance_server import hand_over

    app = QApplication.instance() or QApplication(sys.argv[:1])
    key = instance_key()
    if files and hand_over(key, files):
        log.info("handed %d file(s) to the Artstudio already running", len(files))
        print(f"artstudio: opening {_count(files)} in the Artstudio window already open",
              file=sys.stderr)
        return 0

    from artstudio.ui.application import StudioApplication

    studio = StudioApplication(app, log_file=log_file, startup_notes=[log_note] if log_note else [])
    studio.serve_other_instances(key)
    studio.open_files(files)
    restore = quit_on_terminate(app)
    code = app.exec()
    restore()
    studio.close()
    del studio
    return code
