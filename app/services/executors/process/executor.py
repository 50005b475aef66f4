"""The process executor: runs a task as a plain child process of the worker, without a sandbox.

Meant for trusted private networks and machines without Docker; it must be chosen by name.
Each task runs in its own process group (session) so a timeout, a cancel or a pause reaches
everything the task started. The process is waited for with `os.wait4` where available, which
gives exact CPU time and peak RSS of the task and the children it waited for; psutil sampling
adds what `wait4` cannot see (children still alive, memory now) and enforces the memory limit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from app.services.aio import wait_event
from app.services.executors.base import (
    ExecutionResult,
    Executor,
    LogBuffer,
    LogCallback,
    TaskSpec,
    round_environment,
)
from app.services.executors.disk import disk_usage
from app.services.executors.process.group import (
    KILL,
    TaskProcess,
    log_thread,
    spawn,
    start_thread,
    wait_thread,
)

log = logging.getLogger(__name__)

NO_SANDBOX_WARNING = (
    "process executor: tasks run WITHOUT a sandbox; use only on a trusted private network"
)
_warned = False
_warn_lock = threading.Lock()

# Names of the interpreter a package's command may ask for; see `resolve_command`.
PYTHON_NAMES = ("python3", "python")
# Variables of the worker's own environment a task may see; everything else stays out, so
# the worker's tokens, proxies or cloud credentials never leak into a task.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "COMSPEC", "PATHEXT")


def warn_no_sandbox() -> None:
    """Logs the no-sandbox warning once per process."""
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    log.warning(NO_SANDBOX_WARNING)


def python_interpreter() -> str | None:
    """The Python a task's `python3` should run.

    A venv or an installer may run us with an interpreter that is not the `python3` on PATH
    (or there may be none, as on Windows), so the current interpreter is the reliable choice.
    A frozen app's `sys.executable` is the app itself, not a Python: then PATH decides.
    """
    if not getattr(sys, "frozen", False) and sys.executable:
        return sys.executable
    for name in PYTHON_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def resolve_command(command: list[str]) -> list[str]:
    """The argv to execute: `python3`/`python` becomes a real interpreter. Raises ValueError
    with a one-line reason when the command cannot run here."""
    if not command or not command[0]:
        raise ValueError("the job's command is empty")
    if command[0] in PYTHON_NAMES:
        interpreter = python_interpreter()
        if interpreter is None:
            raise ValueError("no Python interpreter found on this machine (python3 on PATH)")
        return [interpreter, *command[1:]]
    return list(command)


def task_environment(spec: TaskSpec, scratch_dir: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.update(
        {
            "HOME": str(scratch_dir),
            "TMPDIR": str(scratch_dir),
            "TEMP": str(scratch_dir),
            "TMP": str(scratch_dir),
            # Unbuffered so the log streams while the task runs; no .pyc files in the package.
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HIVEMIND_TASK_DIR": str(spec.package_dir),
            "HIVEMIND_INPUT": str(spec.input_path) if spec.input_path else "",
            "HIVEMIND_OUTPUT": str(spec.output_dir),
            "HIVEMIND_TASK_INDEX": str(spec.task_index),
        }
    )
    if spec.results_dirs is not None:
        # A comparison: the two results it judges, as HIVEMIND_TASK_DIR names the package.
        env["HIVEMIND_RESULTS_A"] = str(spec.results_dirs[0])
        env["HIVEMIND_RESULTS_B"] = str(spec.results_dirs[1])
    env.update(round_environment(spec.round, spec.rounds, spec.model_dir, spec.round_outputs_dir))
    env.update(spec.env)
    return env


class ProcessExecutor(Executor):
    """Runs tasks as child processes: no isolation, but limits on time, memory and disk."""

    name = "process"

    def __init__(
        self,
        *,
        sample_interval_s: float = 0.2,
        kill_grace_s: float = 1.0,
        disk_check_interval_s: float = 2.0,
        runtimes: list[str] | None = None,
    ) -> None:
        warn_no_sandbox()
        self.sample_interval_s = sample_interval_s
        # SIGTERM, then SIGKILL after this long; a cancel must end within 2 s in total.
        self.kill_grace_s = kill_grace_s
        self.disk_check_interval_s = disk_check_interval_s
        self._runtimes = runtimes
        self._running: dict[str, TaskProcess] = {}

    def runtimes(self) -> list[str]:
        """Python runtimes are served by the local interpreter: the current one's name, plus
        the network's default `python-3.11`, since stdlib-only task code runs on any 3.x."""
        if self._runtimes is not None:
            return list(self._runtimes)
        if python_interpreter() is None:
            return []
        current = f"python-{sys.version_info.major}.{sys.version_info.minor}"
        return sorted({current, "python-3.11"})

    async def pause(self, attempt_id: str) -> None:
        task = self._running.get(attempt_id)
        if task is not None:
            task.pause()
            log.info("paused attempt=%s", attempt_id)

    async def resume(self, attempt_id: str) -> None:
        task = self._running.get(attempt_id)
        if task is not None:
            task.resume()
            log.info("resumed attempt=%s", attempt_id)

    async def run(
        self, spec: TaskSpec, cancel: asyncio.Event, on_log: LogCallback | None = None
    ) -> ExecutionResult:
        logbuf = LogBuffer(spec.log_limit)
        try:
            argv = resolve_command(spec.command)
        except ValueError as exc:
            return ExecutionResult(exit_code=None, error=str(exc))
        scratch = spec.work_dir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        spec.output_dir.mkdir(parents=True, exist_ok=True)
        env = task_environment(spec, scratch)
        try:
            proc = await asyncio.to_thread(spawn, argv, spec.package_dir, env)
        except OSError as exc:
            return ExecutionResult(exit_code=None, error=f"cannot start {spec.command[0]}: {exc}")

        task = TaskProcess(spec, proc)
        self._running[spec.attempt_id] = task
        log.info(
            "task started attempt=%s job=%s task=%d pid=%d",
            spec.attempt_id,
            spec.job_id,
            spec.task_index,
            proc.pid,
        )
        try:
            return await self._supervise(task, logbuf, cancel, on_log)
        finally:
            self._running.pop(spec.attempt_id, None)
            if task.paused_since is not None:
                task.resume()
            # Whatever happened above (even an error of ours), nothing of the task survives.
            task.signal_group(KILL)

    async def _supervise(
        self,
        task: TaskProcess,
        logbuf: LogBuffer,
        cancel: asyncio.Event,
        on_log: LogCallback | None,
    ) -> ExecutionResult:
        spec = task.spec
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[tuple[int, float | None, int | None]] = loop.create_future()
        log_done = asyncio.Event()

        def on_chunk(chunk: bytes) -> None:
            logbuf.write(chunk)
            if on_log is not None:
                try:
                    on_log(chunk.decode("utf-8", "replace"))
                except Exception:  # a listener's bug must not break the task
                    log.exception("log listener failed attempt=%s", spec.attempt_id)

        start_thread(f"wait-{spec.attempt_id}", wait_thread, task.proc, loop, exited)
        start_thread(f"log-{spec.attempt_id}", log_thread, task.proc, loop, on_chunk, log_done)

        error = killed_by = ""
        timed_out = cancelled = False
        last_disk_check = time.monotonic()
        while not exited.done():
            task.sample()
            if cancel.is_set():
                cancelled, error, killed_by = True, "cancelled", "cancel"
                break
            if task.active_seconds() >= spec.timeout_s:
                timed_out, error = True, f"timed out after {spec.timeout_s} s"
                killed_by = "timeout"
                break
            limit = spec.memory_mb * 1024 * 1024
            if spec.memory_mb > 0 and task.usage.rss_bytes > limit:
                error = f"killed: out of memory (limit {spec.memory_mb} MB)"
                killed_by = "memory"
                break
            if time.monotonic() - last_disk_check >= self.disk_check_interval_s:
                last_disk_check = time.monotonic()
                usage = await asyncio.to_thread(disk_usage, spec.work_dir, spec.max_files)
                if over := usage.over(spec):
                    error, killed_by = over, "disk"
                    break
            waiters = [exited, asyncio.ensure_future(cancel.wait())]
            await asyncio.wait(
                waiters, timeout=self.sample_interval_s, return_when="FIRST_COMPLETED"
            )
            waiters[1].cancel()

        if not exited.done():
            await self._stop(task, exited)
        code, cpu, maxrss = await exited
        wall = task.active_seconds()
        # Daemons the task left behind die with it; then the log pipe has no writer left.
        task.signal_group(KILL)
        if not await wait_event(log_done, 2.0):
            log.warning("log stream still open after exit attempt=%s", spec.attempt_id)

        if not error and code != 0:
            error = _describe_exit(code)
        result = ExecutionResult(
            exit_code=code,
            error=error,
            log=logbuf.text(),
            cpu_seconds=round(max(cpu or 0.0, task.usage.cpu_seconds), 3),
            wall_seconds=round(wall, 3),
            peak_memory_mb=max(maxrss or 0, task.usage.peak_rss_bytes) // (1024 * 1024),
            timed_out=timed_out,
            cancelled=cancelled,
            killed_by=killed_by,
        )
        log.info(
            "task ended attempt=%s job=%s task=%d exit=%s wall=%.2fs cpu=%.2fs%s",
            spec.attempt_id,
            spec.job_id,
            spec.task_index,
            code,
            result.wall_seconds,
            result.cpu_seconds,
            f" error={error!r}" if error else "",
        )
        return result

    async def _stop(self, task: TaskProcess, exited: asyncio.Future) -> None:
        """SIGTERM the group (a stopped process must be continued to see it), then SIGKILL."""
        task.resume()
        task.signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(exited), timeout=self.kill_grace_s)
        except TimeoutError:
            task.signal_group(KILL)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with code {code}"
