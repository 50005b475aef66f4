"""The desktop app under test: real widgets offscreen (pytest-qt, one QApplication per
session), the app's asyncio loop running inside Qt's through qasync, a real server in a
subprocess, real users made with the real CLI, and the worker inside the app running tasks
with the process executor.

Tests are plain (sync) functions: qtbot.waitUntil / waitSignal spin Qt's event loop, which
runs the app's coroutines; `run(qtbot, coro)` waits for one coroutine the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable

try:
    import qasync
except ImportError as error:
    unavailable("Qt", f"qasync cannot be imported ({error}); run `make venv`")

from app.ui.qt_compat import guard_signal_emit_refcount

# Before pytest-qt and qasync start emitting signals (see app/ui/qt_compat.py).
guard_signal_emit_refcount()

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The app's asyncio loop, "running" inside Qt's event loop for this test."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        deadline = time.monotonic() + 5
        while any(not t.done() for t in pending) and time.monotonic() < deadline:
            qapp.processEvents()
            time.sleep(0.01)
        # Never loop.stop()/close() here: they call QApplication.exit(), which would make
        # every later qtbot.waitSignal return at once.
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        executor.shutdown(wait=False, cancel_futures=True)


def run(qtbot: Any, coro: Coroutine, timeout_s: float = 30) -> Any:
    """Runs `coro` on the app's loop and waits for its result while Qt keeps running."""
    future = asyncio.ensure_future(coro)
    qtbot.waitUntil(future.done, timeout=int(timeout_s * 1000))
    return future.result()


@dataclass
class ServerProcess:
    address: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def hivemind_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """`python -m server run` on a free loopback port with a fresh data dir."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    data_dir = tmp_path / "server-data"
    log_path = tmp_path / "server.log"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "run",
                "--data-dir",
                str(data_dir),
                "--listen",
                address,
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(address, data_dir, process, log_path)
    deadline = time.monotonic() + 30
    while f"listening on {address}" not in server.log():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start:\n{server.log()[-3000:]}")
        time.sleep(0.05)
    try:
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def hivemind_cli(home: Path, *args: str, stdin: str = "", timeout: float = 120) -> Any:
    """The real `hivemind` CLI in a subprocess with its own home; returns its --json object."""
    env = dict(
        os.environ, HIVEMIND_HOME=str(home), HIVEMIND_KEYRING="file", PYTHONPATH=str(REPO_ROOT)
    )
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args, "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"hivemind {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def register(home: Path, server: ServerProcess, username: str) -> Any:
    """Registers `username` with the CLI; `home` then holds that user's login."""
    return hivemind_cli(
        home,
        "account",
        "register",
        "--username",
        username,
        "--password-stdin",
        "--server",
        server.address,
        stdin=PASSWORD + "\n",
    )


def write_settings(home: Path, server: ServerProcess, **contributor: Any) -> None:
    """A settings file as the user would have after setup (so no first-run wizard): this
    server, the process executor (no Docker needed for UI tests), and `contributor` values."""
    home.mkdir(parents=True, exist_ok=True)
    settings = {
        "server": server.address,
        "language": "en",
        "contributor": {"executor": "process", "sharing": False, **contributor},
    }
    (home / "settings.json").write_text(json.dumps(settings))


@pytest.fixture
def make_app(
    qapp: Any,
    qloop: asyncio.AbstractEventLoop,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Any]]:
    """`hivemind = make_app(home)`: the whole desktop app for `home`, started. Stopped (worker
    and connection) after the test."""
    from app.ui.application import HiveMindApp
    from app.ui.autostart import XdgAutostart

    monkeypatch.setenv("HIVEMIND_KEYRING", "file")
    apps: list[HiveMindApp] = []

    def create(home: Path, start: bool = True, **kwargs: Any) -> HiveMindApp:
        monkeypatch.setenv("HIVEMIND_HOME", str(home))
        kwargs.setdefault("autostart", XdgAutostart(tmp_path / f"xdg-{len(apps)}"))
        kwargs.setdefault("single_instance", False)
        kwargs.setdefault("exit_qt_on_quit", False)
        hivemind = HiveMindApp(qapp, home, **kwargs)
        apps.append(hivemind)
        if start:
            hivemind.start()
        return hivemind

    yield create
    for hivemind in apps:
        run(qtbot, hivemind.stop(), timeout_s=30)
        hivemind.languages.apply("en")
        hivemind.dispose()
