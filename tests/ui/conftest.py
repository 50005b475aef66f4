"""The desktop app under test: real widgets offscreen (pytest-qt, one QApplication per
session), the app's asyncio loop running inside Qt's through qasync, a real server in a
subprocess, real users made with the real CLI, and the worker inside the app running tasks
with the process executor.

Tests are plain (sync) functions: qtbot.waitUntil / waitSignal spin Qt's event loop, which
runs the app's coroutines. A user's home for the app: homes.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kit.ci import unavailable
from tests.kit.servers import ServerProcess

try:
    import qasync
except ImportError as error:
    unavailable("Qt", f"qasync cannot be imported ({error}); run `make venv`")

from app.ui.qt_compat import guard_signal_emit_refcount

# Before pytest-qt and qasync start emitting signals (see app/ui/qt_compat.py).
guard_signal_emit_refcount()


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


@pytest.fixture
def hivemind_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """`hivemind-server run` on a free loopback port with a fresh data dir."""
    server = ServerProcess.on(tmp_path / "server-data", tmp_path / "server.log")
    server.start_blocking()
    try:
        yield server
    finally:
        server.stop_blocking(timeout=10)


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
        stopped = asyncio.ensure_future(hivemind.stop())  # on the app's loop, while Qt runs
        qtbot.waitUntil(stopped.done, timeout=30_000)
        stopped.result()
        hivemind.languages.apply("en")
        hivemind.dispose()
