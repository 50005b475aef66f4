"""One task as a process group of its own: spawn it, signal the whole group (timeout,
cancel, pause), sample its CPU and memory, and wait for it with `os.wait4` where available,
which gives the exact CPU time and peak RSS of the task and every child it waited for.

The long waits (exit, output) run on dedicated threads and report to the loop with
`call_soon_threadsafe`; nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from app.services.executors.base import TaskSpec

# SIGKILL does not exist on Windows, where `signal_group` kills the tree for any signal.
KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


@dataclass
class Usage:
    """What sampling and `wait4` learned about one task's resource use."""

    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    rss_bytes: int = 0
    # Per pid: the highest CPU time seen, so a child that exits between samples still counts.
    cpu_by_pid: dict[int, float] = field(default_factory=dict)


class TaskProcess:
    """One running task: the child process, its group, its log, its clocks."""

    def __init__(self, spec: TaskSpec, proc: subprocess.Popen[bytes]) -> None:
        self.spec = spec
        self.proc = proc
        self.started = time.monotonic()
        self.paused_since: float | None = None
        self.paused_total = 0.0
        self.usage = Usage()

    def active_seconds(self) -> float:
        """Seconds the task was allowed to run: paused time is neither charged nor timed."""
        now = time.monotonic()
        paused = self.paused_total
        if self.paused_since is not None:
            paused += now - self.paused_since
        return max(0.0, now - self.started - paused)

    def signal_group(self, sig: int) -> None:
        """Sends `sig` to every process of the task (its own session)."""
        if os.name == "posix":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)
            return
        # Windows has no process groups to signal: walk the tree instead.
        for proc in process_tree(self.proc.pid):
            try:
                if sig == signal.SIGTERM:
                    proc.terminate()
                else:
                    proc.kill()
            except psutil.Error:
                pass

    def pause(self) -> None:
        if self.paused_since is not None:
            return
        self.paused_since = time.monotonic()
        if os.name == "posix":
            self.signal_group(signal.SIGSTOP)
        else:
            for proc in process_tree(self.proc.pid):
                with contextlib.suppress(psutil.Error):
                    proc.suspend()

    def resume(self) -> None:
        if self.paused_since is None:
            return
        if os.name == "posix":
            self.signal_group(signal.SIGCONT)
        else:
            for proc in process_tree(self.proc.pid):
                with contextlib.suppress(psutil.Error):
                    proc.resume()
        self.paused_total += time.monotonic() - self.paused_since
        self.paused_since = None

    def sample(self) -> None:
        """Adds the tree's CPU and memory now to the usage record (psutil, cheap)."""
        rss = 0
        for proc in process_tree(self.proc.pid):
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
            cpu = times.user + times.system + times.children_user + times.children_system
            previous = self.usage.cpu_by_pid.get(proc.pid, 0.0)
            self.usage.cpu_by_pid[proc.pid] = max(previous, cpu)
        self.usage.rss_bytes = rss
        self.usage.peak_rss_bytes = max(self.usage.peak_rss_bytes, rss)
        self.usage.cpu_seconds = max(self.usage.cpu_seconds, sum(self.usage.cpu_by_pid.values()))


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def wait_for_exit(proc: subprocess.Popen[bytes]) -> tuple[int, float | None, int | None]:
    """Blocks until the task's main process exits: (exit code, CPU seconds, peak RSS bytes).
    The rusage of `wait4` covers the process and every child it waited for."""
    if not hasattr(os, "wait4"):
        return proc.wait(), None, None
    while True:
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return proc.wait(), None, None
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # tell Popen it was reaped, so it never waits on a reused pid
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return code, rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss * scale


def spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    kwargs: dict = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True  # own session = own process group
    else:
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream keeps stdout and stderr lines in order
        **kwargs,
    )


def start_thread(name: str, target: Callable[..., None], *args: object) -> None:
    # Dedicated threads: a task may run for hours, which must not hold the shared pool.
    threading.Thread(target=target, args=args, name=f"hivemind-{name}", daemon=True).start()


def wait_thread(
    proc: subprocess.Popen[bytes],
    loop: asyncio.AbstractEventLoop,
    exited: asyncio.Future,
) -> None:
    try:
        outcome = wait_for_exit(proc)
    except Exception as exc:
        loop.call_soon_threadsafe(_set_exception, exited, exc)
        return
    loop.call_soon_threadsafe(_set_result, exited, outcome)


def log_thread(
    proc: subprocess.Popen[bytes],
    loop: asyncio.AbstractEventLoop,
    on_chunk: Callable[[bytes], None],  # called on the loop
    done: asyncio.Event,
) -> None:
    stream = proc.stdout
    try:
        while stream is not None:
            chunk = stream.read1(65536)
            if not chunk:
                break
            loop.call_soon_threadsafe(on_chunk, chunk)
    except (OSError, ValueError):
        pass
    finally:
        if stream is not None:
            stream.close()
        loop.call_soon_threadsafe(done.set)


def _set_result(future: asyncio.Future, value: object) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
