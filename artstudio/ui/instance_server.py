"""The local socket between a running Artstudio and a second one started
with files: the second hands them over and exits (`hand_over`), the first
opens them (`InstanceServer`). The name and messages: artstudio.single_instance."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from artstudio.single_instance import (
    MAX_REQUEST_BYTES,
    open_reply,
    open_request,
    read_open_reply,
    read_open_request,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1000
REPLY_TIMEOUT_MS = 5000  # the running window answers from its event loop, even during a job


def hand_over(key: str, files: Sequence[Path | str]) -> bool:
    """Ask the Artstudio listening on `key` to open `files`. True when it
    said it will; False when none is running, or it does not answer in time
    (then this process opens its own window)."""
    socket = QLocalSocket()
    socket.connectToServer(key)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    try:
        socket.write(open_request(files))
        if not socket.waitForBytesWritten(CONNECT_TIMEOUT_MS):
            return False
        deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
        while not socket.canReadLine():
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not socket.waitForReadyRead(left):
                return False
        return read_open_reply(bytes(socket.readLine().data())) == len(files)
    finally:
        socket.abort()


class InstanceServer(QObject):
    """Listens on `key` and calls `on_files(paths)` on the GUI thread for each
    request a second Artstudio sends."""

    def __init__(self, key: str, on_files: Callable[[list[Path]], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.key = key
        self._on_files = on_files
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytearray] = {}

    def listen(self) -> bool:
        """Start serving; False when another Artstudio already serves this
        key (the first one keeps receiving) or the socket cannot be made."""
        # Asked first: with the user-only access option Qt makes the socket
        # in a private folder and renames it into place, over a live one too.
        probe = QLocalSocket()
        probe.connectToServer(self.key)
        if probe.waitForConnected(CONNECT_TIMEOUT_MS):
            probe.abort()
            return False
        QLocalServer.removeServer(self.key)  # left by a window that crashed, if any
        if not self._server.listen(self.key):
            log.warning("cannot take files from other windows: %s", self._server.errorString())
            return False
        return True

    def close(self) -> None:
        self._server.close()
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = bytearray()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))

    def _drop(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        buffer = self._buffers.get(socket)
        if buffer is None:
            return
        buffer += bytes(socket.readAll().data())
        if b"\n" not in buffer:
            if len(buffer) > MAX_REQUEST_BYTES:
                socket.abort()
            return
        line = bytes(buffer[:buffer.index(b"\n")])
        try:
            files = read_open_request(line)
        except ValueError as exc:
            log.warning("ignored a message on the instance socket: %s", exc)
            socket.abort()
            return
        log.info("opening %d file(s) handed over by another Artstudio", len(files))
        socket.write(open_reply(len(files)))
        socket.flush()
        socket.disconnectFromServer()
        # After replying: opening may ask about unsaved work in a dialog.
        QTimer.singleShot(0, self, lambda: self._on_files(files))
