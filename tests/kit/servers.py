"""The server under test, run two ways: in this process (`start_server`, what the `make_server`
and `server` fixtures use, or `ServerThread` for a synchronous test), and as a real
`hivemind-server` subprocess (`ServerProcess`, what the `server_process` fixture uses), which a
test can SIGKILL and start again on the same data dir and address."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from server.app import HiveMindServer
from server.config import ServerSettings
from tests.kit.paths import REPO_ROOT, python_env

T = TypeVar("T")
# The one server setting of the whole suite, for servers in this process (tests/conftest.py
# puts it in the environment) and subprocesses alike: new accounts get 100 CPT of starter
# credit, the sign-up grant the tests' jobs were written for; the default is much smaller
# (server/config.py), and tests about starter credit set what they test.
SUITE_SERVER_ENV = {"HIVEMIND_SERVER_SIGNUP_GRANT_UCPT": str(100_000_000)}
LISTENING = re.compile(r"HiveMind server listening on (\S+)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a `python -m server` subprocess: this process's without its
    HIVEMIND_SERVER_* settings (one exported in the shell running the tests never reaches the
    server under test), then the suite's own (SUITE_SERVER_ENV), then `overrides`."""
    env = {k: v for k, v in python_env().items() if not k.startswith("HIVEMIND_SERVER_")}
    env.update(SUITE_SERVER_ENV)
    env.update(overrides)
    return env


async def start_server(data_dir: Path, **overrides: Any) -> HiveMindServer:
    """A started server in this process and event loop, on `data_dir` with ServerSettings
    `overrides`; it listens on 127.0.0.1 with a free port unless `listen` is given, and serves
    no web dashboard unless `http_listen` is given (tests/web give 127.0.0.1:0)."""
    overrides.setdefault("listen", "127.0.0.1:0")
    overrides.setdefault("http_listen", "off")
    server = HiveMindServer(ServerSettings.load(data_dir, **overrides))
    await server.start()
    return server


class ServerThread:
    """`start_server` on an event loop of its own in a daemon thread, for a synchronous test
    (Hypothesis drives one from a plain function)."""

    def __init__(self, data_dir: Path, **overrides: Any) -> None:
        self.data_dir = data_dir
        self.overrides = overrides
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: HiveMindServer | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> HiveMindServer:
        self.thread.start()
        self.server = self.run(start_server(self.data_dir, **self.overrides))
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.run(self.server.stop(grace=0.5))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class ServerProcess:
    """`hivemind-server ARGS` (`python -m server` from the source tree) as a real subprocess,
    its stdout and stderr appended to `log_path`, its environment `server_env(**env)`. It is
    started when it says where it listens; `address` is that address (a port 0 resolved).

    `ServerProcess.on(data_dir, ...)` is `run --data-dir DATA_DIR --listen 127.0.0.1:PORT` on a
    fixed port, so clients reconnect to the same address after `kill()` and `start()`; without
    a web dashboard unless `extra_args` has `--http`.
    Async tests use `start`, `kill`, `stop` and `restart`; synchronous ones (Qt, packaging)
    `start_blocking` and `stop_blocking`."""

    def __init__(
        self,
        args: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.log_path = log_path
        self.env = dict(env or {})
        self.data_dir = data_dir
        self.address = ""
        self.web_address = ""  # host:port of its web server (--http), "" when off
        self.ready_line = ""  # the line that said where it listens
        self.process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    @classmethod
    def on(
        cls,
        data_dir: Path,
        log_path: Path,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> ServerProcess:
        listen = f"127.0.0.1:{port or free_port()}"
        args = ["run", "--data-dir", str(data_dir), "--listen", listen, *extra_args]
        if "--http" not in extra_args:
            args += ["--http", "off"]
        proc = cls(args, log_path, env=env, data_dir=data_dir)
        proc.address = listen
        web = args[args.index("--http") + 1]
        proc.web_address = "" if web == "off" else web
        return proc

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def settings(self) -> ServerSettings:
        """The settings the server loads from its data dir (server.toml), as the test sees them."""
        if self.data_dir is None:
            raise ValueError("this server process was given no data_dir")
        return ServerSettings.load(self.data_dir, listen=self.address)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _spawn(self) -> None:
        if self.running:
            raise RuntimeError("server process already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # A restart appends to the same log: only what this run prints says it is ready.
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", *self.args],
                cwd=REPO_ROOT,
                env=server_env(**self.env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def _listening(self) -> bool:
        """Whether this run said where it listens; raises when it ended without saying so."""
        assert self.process is not None
        with open(self.log_path, "rb") as log_file:
            log_file.seek(self._log_start)
            printed = log_file.read().decode(errors="replace")
        found = LISTENING.search(printed)
        if found:
            self.address = found.group(1)
            self.ready_line = printed[found.start() :].splitlines()[0].strip()
            return True
        if self.process.poll() is not None:
            raise RuntimeError(
                f"server exited with {self.process.returncode} before listening:\n"
                f"{self.log()[-3000:]}"
            )
        return False

    def _not_ready(self) -> TimeoutError:
        self._kill_now()
        return TimeoutError(f"server not ready:\n{self.log()[-3000:]}")

    async def start(self, timeout: float = 30.0) -> ServerProcess:
        self._spawn()
        deadline = time.monotonic() + timeout
        while not self._listening():
            if time.monotonic() > deadline:
                raise self._not_ready()
            await asyncio.sleep(0.05)
        return self

    def start_blocking(self, timeout: float = 30.0) -> ServerProcess:
        self._spawn()
        deadline = time.monotonic() + timeout
        while not self._listening():
            if time.monotonic() > deadline:
                raise self._not_ready()
            time.sleep(0.05)
        return self

    async def kill(self) -> None:
        """SIGKILL: no cleanup runs, as in a crash or power cut of the process."""
        await self._signal(signal.SIGKILL)

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (graceful stop); returns the exit code."""
        return await self._signal(signal.SIGTERM, timeout)

    async def restart(self) -> ServerProcess:
        await self.kill()
        return await self.start()

    async def _signal(self, signum: int, timeout: float = 15.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return await asyncio.to_thread(self.process.wait, timeout)

    def stop_blocking(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL if it has not ended within `timeout`; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return self._kill_now()

    def _kill_now(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()
