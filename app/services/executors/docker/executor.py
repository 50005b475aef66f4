"""The executor the worker sees: runtimes, availability, pause and resume, leftovers, and a
`run` that always removes its container, whatever happens (the habit of Golem's legacy docker
job). The wall-clock deadline is ours to enforce: we kill at the deadline instead of trusting
a `wait(timeout=)`, which only stops waiting. Every Docker SDK call runs off the event loop:
short calls in `asyncio.to_thread`, the long ones (output, exit, sampling) on dedicated
threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors

from app.services.executors.base import (
    ExecutionResult,
    Executor,
    LogCallback,
    OutsideUsage,
    TaskSpec,
)
from app.services.executors.docker.attempt import Attempt, AttemptRun, force_remove, one_line
from app.services.executors.docker.config import (
    DEFAULT_PIDS_LIMIT,
    DEFAULT_RUNTIME_IMAGES,
    LABEL_INSTANCE,
    build_plan,
    container_user,
    validate_spec,
)
from app.services.gpu import GpuSupport, gpu_support_from_info

PAUSE_TRIES = 3  # a busy dockerd sometimes refuses a pause once
log = logging.getLogger(__name__)


@dataclass
class Availability:
    """Can this executor run tasks here? Truthy when it can; else `reason` says why."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class DockerExecutor(Executor):
    """Runs each attempt in a fresh container from its runtime's image, within its limits.

    `instance` names this worker's containers (label io.hivemind.instance), so that
    `cleanup_leftovers` removes only what an earlier run of this same worker left behind.
    """

    name = "docker"

    def __init__(
        self,
        *,
        runtime_images: dict[str, str] | None = None,
        instance: str = "default",
        pids_limit: int = DEFAULT_PIDS_LIMIT,
        sample_interval_s: float = 0.1,
        disk_interval_s: float = 0.5,
        client: Any = None,
    ) -> None:
        self.runtime_images = dict(runtime_images or DEFAULT_RUNTIME_IMAGES)
        self.instance = instance
        self.pids_limit = pids_limit
        self.sample_interval_s = sample_interval_s
        self.disk_interval_s = disk_interval_s
        self._client = client  # a docker.DockerClient; made on first use (that dials)
        self._client_lock = threading.Lock()
        self._running: dict[str, Attempt] = {}
        self._ended_cpu_seconds = 0.0  # of the containers that are gone
        self._usage_lock = threading.Lock()  # outside_usage() may be called from any thread
        self._gpu: GpuSupport | None = None

    # -- the daemon -------------------------------------------------------------------------

    def _api(self) -> Any:
        """The low-level client (blocking: the first call dials the daemon)."""
        with self._client_lock:
            if self._client is None:
                self._client = docker.from_env()
            return self._client.api

    async def available(self) -> Availability:
        """Whether the daemon answers; the reason is one line for the UI when it does not."""
        try:
            await asyncio.to_thread(lambda: self._api().ping())
        except Exception as exc:
            return Availability(False, f"cannot reach the Docker daemon: {one_line(exc)}")
        return Availability(True)

    def runtimes(self) -> list[str]:
        """Runtime names whose image is present here. Blocking (one inspect per runtime):
        call it from a thread when on the event loop."""
        try:
            api = self._api()
        except Exception:
            return []
        present = []
        for runtime, image in sorted(self.runtime_images.items()):
            try:
                api.inspect_image(image)
            except docker.errors.DockerException:
                continue
            except Exception:  # the daemon went away (requests' connection errors)
                return []
            present.append(runtime)
        return present

    async def gpu_support(self) -> GpuSupport:
        """Whether tasks may get GPUs here (an NVIDIA runtime in `docker info`), and why not."""
        if self._gpu is None:
            try:
                info = await asyncio.to_thread(lambda: self._api().info())
            except Exception as exc:
                return GpuSupport(False, f"cannot reach the Docker daemon: {one_line(exc)}")
            self._gpu = gpu_support_from_info(info)
        return self._gpu

    def image_for(self, spec: TaskSpec) -> str:
        """The image of the task's runtime; ValueError for a runtime this worker lacks."""
        if spec.runtime_image:
            return spec.runtime_image
        image = self.runtime_images.get(spec.runtime)
        if not image:
            known = ", ".join(sorted(self.runtime_images)) or "none"
            raise ValueError(f"unknown runtime {spec.runtime!r} (this worker has: {known})")
        return image

    async def cleanup_leftovers(self) -> int:
        """Force-removes every container of this instance (a crashed worker's leftovers)."""

        def remove_all() -> int:
            api = self._api()
            found = api.containers(all=True, filters={"label": f"{LABEL_INSTANCE}={self.instance}"})
            removed = 0
            ours_now = {attempt.container_id for attempt in self._running.values()}
            for container in found:
                if container["Id"] in ours_now:
                    continue
                with contextlib.suppress(docker.errors.NotFound):
                    force_remove(api, container["Id"], container.get("State") == "paused")
                    removed += 1
            return removed

        try:
            removed = await asyncio.to_thread(remove_all)
        except Exception as exc:  # no daemon: nothing of ours can be running either
            log.warning("cannot look for leftover task containers: %s", one_line(exc))
            return 0
        if removed:
            log.info("removed %d leftover task container(s) instance=%s", removed, self.instance)
        return removed

    def outside_usage(self) -> OutsideUsage:
        """The containers' CPU seconds (ended ones included, so the counter never drops) and
        the memory the running ones hold, as their resource monitors last measured them."""
        with self._usage_lock:
            cpu = self._ended_cpu_seconds
            memory = 0
            for attempt in list(self._running.values()):
                monitor = attempt.monitor
                if monitor is not None:
                    cpu += monitor.usage.cpu_seconds or 0.0
                    memory += monitor.memory_bytes
        return OutsideUsage(cpu_seconds=cpu, memory_bytes=memory)

    # -- pause / resume ---------------------------------------------------------------------

    async def pause(self, attempt_id: str) -> None:
        attempt = self._running.get(attempt_id)
        if attempt is None or not attempt.container_id or attempt.paused_since is not None:
            return
        for retry in range(PAUSE_TRIES):
            try:
                await asyncio.to_thread(self._api().pause, attempt.container_id)
                break
            except docker.errors.APIError as exc:  # it may have just ended, or dockerd is busy
                if attempt_id not in self._running or retry == PAUSE_TRIES - 1:
                    log.warning("could not pause attempt=%s: %s", attempt_id, one_line(exc))
                    return
                await asyncio.sleep(0.2 * (retry + 1))
        attempt.paused_since = time.monotonic()
        attempt.state_changed.set()
        log.info("paused attempt=%s", attempt_id)

    async def resume(self, attempt_id: str) -> None:
        attempt = self._running.get(attempt_id)
        if attempt is None or attempt.paused_since is None:
            return
        try:
            await asyncio.to_thread(self._api().unpause, attempt.container_id)
        except docker.errors.APIError as exc:
            log.info("could not resume attempt=%s: %s", attempt_id, one_line(exc))
        attempt.paused_total += time.monotonic() - attempt.paused_since
        attempt.paused_since = None
        attempt.state_changed.set()
        log.info("resumed attempt=%s", attempt_id)

    # -- running ----------------------------------------------------------------------------

    async def run(
        self, spec: TaskSpec, cancel: asyncio.Event, on_log: LogCallback | None = None
    ) -> ExecutionResult:
        try:
            validate_spec(spec)
            image = self.image_for(spec)
        except ValueError as exc:
            return ExecutionResult(exit_code=None, error=str(exc))
        if spec.gpus > 0:
            gpu = await self.gpu_support()
            if not gpu.available:
                return ExecutionResult(exit_code=None, error=gpu.reason)
        user = container_user()
        plan = build_plan(
            spec, image, instance=self.instance, user=user, pids_limit=self.pids_limit
        )
        attempt = Attempt(spec)
        attempt_run = AttemptRun(
            self._api,
            attempt,
            plan,
            user,
            sample_interval_s=self.sample_interval_s,
            disk_interval_s=self.disk_interval_s,
        )
        self._running[spec.attempt_id] = attempt
        try:
            return await attempt_run.run(cancel, on_log)
        finally:
            with self._usage_lock:  # moved from running to ended in one step
                if attempt.monitor is not None:
                    self._ended_cpu_seconds += attempt.monitor.usage.cpu_seconds or 0.0
                self._running.pop(spec.attempt_id, None)
            if attempt.container_id and not attempt.removed:
                # Always removed, even when we are cancelled ourselves; shielded so a second
                # cancellation cannot leave the container behind.
                await asyncio.shield(asyncio.to_thread(attempt_run.remove_quietly))
