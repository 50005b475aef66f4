"""One attempt in one container, from creation to removal.

`AttemptRun` creates the container, attaches to its output before starting it (as `docker run`
does, so not one byte is missed), starts it, watches it (`watch`), enforces the
deadline, the disk cap and cancellation by killing it, and turns what happened into an
`ExecutionResult`. Removal is the caller's `finally` (see `DockerExecutor.run`), so a
container never outlives its attempt, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import docker.errors
import docker.types
import requests

from app.services.executors.base import ExecutionResult, LogBuffer, LogCallback, TaskSpec
from app.services.executors.docker.config import ContainerPlan, prepare_mounts
from app.services.executors.docker.watch import OutputPump, ResourceMonitor, attach_output

log = logging.getLogger(__name__)

MB = 1024 * 1024
# Exit status of a process killed by SIGKILL (128 + 9): what the kernel's OOM killer does.
EXIT_SIGKILL = 137


@dataclass
class Attempt:
    """One running attempt: its container and its clocks (paused time is not charged)."""

    spec: TaskSpec
    container_id: str = ""
    started: float = 0.0
    paused_since: float | None = None
    paused_total: float = 0.0
    state_changed: asyncio.Event = field(default_factory=asyncio.Event)
    disk_error: str = ""  # set when a disk cap (bytes or files) was crossed
    removed: bool = False
    monitor: ResourceMonitor | None = None  # measures the container while it runs

    def active_seconds(self) -> float:
        now = time.monotonic()
        paused = self.paused_total
        if self.paused_since is not None:
            paused += now - self.paused_since
        return max(0.0, now - self.started - paused)


class AttemptRun:
    """Runs `attempt` in a container made from `plan`. Blocking Docker calls go to threads;
    `api_factory` returns the low-level client (blocking on its first call)."""

    def __init__(
        self,
        api_factory: Callable[[], Any],
        attempt: Attempt,
        plan: ContainerPlan,
        user: tuple[int, int],
        *,
        sample_interval_s: float,
        disk_interval_s: float,
    ) -> None:
        self._api = api_factory
        self.attempt = attempt
        self.plan = plan
        self.user = user
        self.sample_interval_s = sample_interval_s
        self.disk_interval_s = disk_interval_s

    async def run(self, cancel: asyncio.Event, on_log: LogCallback | None) -> ExecutionResult:
        attempt, plan = self.attempt, self.plan
        spec = attempt.spec
        logbuf = LogBuffer(spec.log_limit)
        try:
            api, stream = await asyncio.to_thread(self._create_and_attach)
        except Exception as exc:
            return ExecutionResult(exit_code=None, error=create_error(exc, plan.image))
        if cancel.is_set():
            return ExecutionResult(exit_code=None, error="cancelled", cancelled=True)
        try:
            await asyncio.to_thread(api.start, attempt.container_id)
        except Exception as exc:
            return ExecutionResult(
                exit_code=None, error=f"cannot start the task container: {one_line(exc)}"
            )
        attempt.started = time.monotonic()
        log.info(
            "task started attempt=%s job=%s task=%d container=%s",
            spec.attempt_id,
            spec.job_id,
            spec.task_index,
            attempt.container_id[:12],
        )
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[int | None] = loop.create_future()
        name = spec.attempt_id[:16]
        pump = OutputPump(
            api, attempt.container_id, stream, logbuf, on_log, loop, exited, f"out-{name}"
        )
        pump.start()

        def disk_exceeded(error: str) -> None:
            attempt.disk_error = error
            attempt.state_changed.set()

        monitor = ResourceMonitor(
            api,
            attempt.container_id,
            spec.work_dir,
            lambda usage: usage.over(spec),
            loop,
            disk_exceeded,
            f"usage-{name}",
            interval_s=self.sample_interval_s,
            disk_interval_s=self.disk_interval_s,
            max_files=spec.max_files,
        )
        monitor.start()
        attempt.monitor = monitor
        try:
            stop_reason = await self._supervise(attempt, exited, cancel)
            if stop_reason:
                await asyncio.to_thread(self.remove_quietly)
            try:
                exit_code = await asyncio.wait_for(asyncio.shield(exited), timeout=5.0)
            except Exception as exc:  # the daemon went away, or the pump is stuck
                log.warning("no exit status attempt=%s: %s", spec.attempt_id, one_line(exc))
                exit_code = None
        finally:
            usage = await asyncio.to_thread(monitor.stop)
        if stop_reason == "timeout" and exit_code == 0:
            # It finished on its own in the instant between the deadline and our kill (a
            # kill shows as 137): the work is done, and done in time as far as it could tell.
            stop_reason = ""
        wall = attempt.active_seconds()
        oom = False
        if not stop_reason and exit_code:
            # Any failure: a process of the task may have been OOM-killed even when the
            # main one went on to exit with its own code.
            oom = await asyncio.to_thread(self._was_oom_killed, exit_code, usage.peak_memory_bytes)
        error = describe(stop_reason, exit_code, oom, spec, attempt.disk_error)
        result = ExecutionResult(
            exit_code=exit_code,
            error=error,
            log=logbuf.text(),
            cpu_seconds=round(usage.cpu_seconds or 0.0, 3),
            wall_seconds=round(wall, 3),
            peak_memory_mb=(usage.peak_memory_bytes or 0) // MB,
            timed_out=stop_reason == "timeout",
            cancelled=stop_reason == "cancel",
            killed_by=stop_reason or ("memory" if oom else ""),
        )
        log.info(
            "task ended attempt=%s job=%s task=%d exit=%s wall=%.2fs cpu=%.2fs peak=%dMB "
            "usage=%s%s",
            spec.attempt_id,
            spec.job_id,
            spec.task_index,
            exit_code,
            result.wall_seconds,
            result.cpu_seconds,
            result.peak_memory_mb,
            monitor.source,
            f" error={error!r}" if error else "",
        )
        return result

    async def _supervise(
        self, attempt: Attempt, exited: asyncio.Future, cancel: asyncio.Event
    ) -> str:
        """Waits for the end; returns why we must stop it ("cancel", "timeout", "disk"), or
        "" when it ended by itself."""
        cancelled = asyncio.ensure_future(cancel.wait())
        try:
            while not exited.done():
                if cancel.is_set():
                    return "cancel"
                if attempt.disk_error:
                    return "disk"
                remaining = attempt.spec.timeout_s - attempt.active_seconds()
                if attempt.paused_since is None and remaining <= 0:
                    return "timeout"
                attempt.state_changed.clear()
                changed = asyncio.ensure_future(attempt.state_changed.wait())
                # While paused the deadline stands still: wait for a state change instead.
                timeout = None if attempt.paused_since is not None else remaining
                await asyncio.wait(
                    [exited, cancelled, changed],
                    timeout=timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                changed.cancel()
            return ""
        finally:
            cancelled.cancel()

    # -- blocking helpers (run in threads) --------------------------------------------------

    def _create_and_attach(self) -> tuple[Any, Any]:
        attempt, plan = self.attempt, self.plan
        api = self._api()
        prepare_mounts(attempt.spec, *self.user)
        mounts = [
            docker.types.Mount(target, source, type="bind", read_only=read_only)
            for source, target, read_only in plan.mounts
        ]
        device_requests = None
        if plan.gpus > 0:
            device_requests = [docker.types.DeviceRequest(count=plan.gpus, capabilities=[["gpu"]])]
        host_config = api.create_host_config(
            mounts=mounts, device_requests=device_requests, **plan.host_config_kwargs()
        )
        created = api.create_container(
            plan.image,
            command=plan.command,
            user=plan.user,
            environment=plan.environment,
            labels=plan.labels,
            working_dir=plan.working_dir,
            host_config=host_config,
            network_disabled=True,
        )
        attempt.container_id = created["Id"]
        return api, attach_output(api, attempt.container_id)

    def _was_oom_killed(self, exit_code: int, peak_bytes: int | None) -> bool:
        attempt = self.attempt
        try:
            state = self._api().inspect_container(attempt.container_id)["State"]
        except Exception:  # no answer: judge by the numbers below
            state = {}
        if state.get("OOMKilled"):
            return True
        # The daemon may miss the OOM event (seen on some cgroup v2 setups); a SIGKILL with
        # the memory at its limit is the kernel's OOM killer all the same.
        limit = attempt.spec.memory_mb * MB
        return exit_code == EXIT_SIGKILL and bool(peak_bytes) and peak_bytes >= limit * 0.95

    def remove_quietly(self) -> None:
        """Kills and removes the container (blocking); a failure is logged, never raised:
        the next `cleanup_leftovers` gets it."""
        attempt = self.attempt
        try:
            force_remove(self._api(), attempt.container_id, attempt.paused_since is not None)
            attempt.removed = True
        except docker.errors.NotFound:
            attempt.removed = True
        except Exception as exc:
            log.warning(
                "could not remove container=%s attempt=%s: %s (removed at next start)",
                attempt.container_id[:12],
                attempt.spec.attempt_id,
                one_line(exc),
            )


def force_remove(api: Any, container_id: str, paused: bool) -> None:
    """SIGKILL and remove in one call; a paused (frozen) container is thawed first, since the
    daemon refuses to kill a frozen one."""
    if paused:
        with contextlib.suppress(docker.errors.APIError):
            api.unpause(container_id)
    api.remove_container(container_id, force=True, v=True)


def describe(
    stop_reason: str, exit_code: int | None, oom: bool, spec: TaskSpec, disk_error: str = ""
) -> str:
    if stop_reason == "cancel":
        return "cancelled"
    if stop_reason == "timeout":
        return f"timed out after {spec.timeout_s} s"
    if stop_reason == "disk":
        return disk_error or f"killed: disk limit exceeded ({spec.disk_mb} MB)"
    if oom:
        return f"killed: out of memory (limit {spec.memory_mb} MB)"
    if exit_code is None:
        return "the task container vanished before it reported an exit status"
    if exit_code == 0:
        return ""
    if exit_code > 128:
        return f"exited with code {exit_code} (killed by signal {exit_code - 128})"
    return f"exited with code {exit_code}"


def create_error(exc: Exception, image: str) -> str:
    if isinstance(exc, docker.errors.ImageNotFound):
        return f"runtime image {image} is not present on this machine"
    if isinstance(exc, docker.errors.APIError):
        return f"cannot create the task container: {one_line(exc)}"
    if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException):
        return f"cannot prepare the task's output directory: {exc}"
    return f"cannot reach the Docker daemon: {one_line(exc)}"


def one_line(exc: BaseException) -> str:
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        text = str(exc.explanation)
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."
