"""One app per HiveMind home: a second launch asks the first to show its window (and passes
on the join link it was given) and exits.

The first instance listens on a QLocalServer whose name is derived from `$HIVEMIND_HOME`,
so two homes (two identities, as the tests use) are two independent apps.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

RAISE_MESSAGE = b"raise\n"
JOIN_PREFIX = b"join "
CONNECT_TIMEOUT_MS = 500


def instance_name(home: Path) -> str:
    key = hashlib.sha256(f"{getpass.getuser()}:{Path(home).resolve()}".encode()).hexdigest()
    return f"hivemind-app-{key[:16]}"


def ask_running_instance_to_raise(home: Path, join_link: str = "") -> bool:
    """True when another instance for `home` answered (and was asked to show its window, or
    to offer joining the network of `join_link`)."""
    socket = QLocalSocket()
    socket.connectToServer(instance_name(home))
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    if join_link:
        socket.write(JOIN_PREFIX + join_link.encode("utf-8", "replace")[:4000] + b"\n")
    else:
        socket.write(RAISE_MESSAGE)
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class SingleInstance(QObject):
    """Listens for later launches; emits `raise_requested` for each."""

    raise_requested = Signal()
    join_requested = Signal(str)  # a join link a later launch was given

    def __init__(self, home: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = instance_name(home)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.UserAccessOption)
        self.server.newConnection.connect(self._connected)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # A crashed instance leaves its socket file behind (Unix): nobody answered, so reuse.
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        message = bytes(socket.readAll().data())
        if message.startswith(RAISE_MESSAGE.strip()):
            self.raise_requested.emit()
        elif message.startswith(JOIN_PREFIX):
            link = message[len(JOIN_PREFIX) :].decode("utf-8", "replace").strip()
            self.join_requested.emit(link)
