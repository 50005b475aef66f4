"""Redis for tests: a real `redis-server` (Debian's) started on a free loopback port with no
persistence, which a test may stop, restart (empty, as after a crash) or leave running.

`.ci/redis-setup.sh` installs the server in CI (and starts one, whose URL it prints into
HIVEMIND_TEST_REDIS_URL); without the binary the tests that need Redis skip, or fail under
CI=true. Every server a test starts on Redis gets a namespace of its own (`redis_namespace`),
so tests sharing one Redis never see each other's keys or messages.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tests.kit.servers import free_port

REDIS_SERVER = "redis-server"


def redis_problem() -> str | None:
    """Why tests cannot start Redis here, or None."""
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis client is not installed (pip install -e '.[scale,dev]')"
    if shutil.which(REDIS_SERVER) is None:
        return "redis-server is not installed (run: sudo bash .ci/redis-setup.sh)"
    return None


def new_namespace() -> str:
    return f"hm-test-{uuid.uuid4().hex[:10]}"


class RedisServer:
    """One redis-server process on 127.0.0.1:`port`; `url` is what servers are given."""

    def __init__(self, work_dir: Path, port: int | None = None) -> None:
        self.work_dir = work_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.work_dir / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.work_dir),
                "--protected-mode", "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.work_dir,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start on port {self.port}:\n"
                    + (self.work_dir / "redis.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: everything it held is gone (nothing is saved)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self, down_s: float = 0.0) -> RedisServer:
        """Killed, then started empty on the same port after `down_s` seconds."""
        self.kill()
        if down_s:
            time.sleep(down_s)
        return self.start()


def shared_url() -> str:
    """The Redis CI started (`.ci/redis-setup.sh`), or "" to start one here."""
    return os.environ.get("HIVEMIND_TEST_REDIS_URL", "")
