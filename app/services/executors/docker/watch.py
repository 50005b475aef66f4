"""The two threads that watch one running container.

`OutputPump` moves the container's stdout/stderr into the task log as it comes, then learns
the exit code. `ResourceMonitor` samples CPU, memory and the work directory (bytes and
files), and says when a disk cap is crossed; its numbers so far are also what the executor
reports as the containers' live usage. Both are dedicated threads rather than
`asyncio.to_thread`: a task may run for hours, which must not hold a slot of the loop's shared
thread pool. They talk to the loop only through `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors

from app.services.executors.base import LogBuffer, LogCallback
from app.services.executors.disk import DiskUsage, disk_usage
from app.services.executors.docker.usage import CgroupReader, UsageSample, stats_api_sample

log = logging.getLogger(__name__)

STATS_API_INTERVAL_S = 1.0


def attach_output(api: Any, container_id: str) -> Iterator[bytes]:
    """Opens the container's output stream (stdout and stderr, in order). Called before the
    container starts, as `docker run` does, so not one byte is missed. Blocking."""
    return api.attach(container_id, stdout=True, stderr=True, stream=True, logs=False)


class OutputPump:
    """Thread: container output -> `LogBuffer` (and `on_log` on the loop); then resolves
    `exited` with the exit code, or None when the container vanished (we removed it)."""

    def __init__(
        self,
        api: Any,
        container_id: str,
        stream: Iterator[bytes],
        logbuf: LogBuffer,
        on_log: LogCallback | None,
        loop: asyncio.AbstractEventLoop,
        exited: asyncio.Future[int | None],
        name: str,
    ) -> None:
        self.api = api
        self.container_id = container_id
        self.stream = stream
        self.logbuf = logbuf
        self.on_log = on_log
        self.loop = loop
        self.exited = exited
        # The live view gets at most one log's worth of text; the stored log keeps head + tail.
        self._forward_budget = logbuf.limit
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._thread = threading.Thread(target=self._run, name=f"hivemind-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            outcome: int | BaseException | None = self._pump_then_wait()
        except BaseException as exc:
            outcome = exc
        _to_loop(self.loop, _resolve, self.exited, outcome)

    def _pump_then_wait(self) -> int | None:
        stream = self.stream
        while True:
            try:
                for chunk in stream:
                    self._deliver(chunk)
            finally:
                _close(stream)
            # A stream that ends while the container still runs (a dropped connection, a
            # restarted daemon) is reopened: output stops only when the task does.
            if not self._still_running():
                break
            log.debug(
                "output stream ended while running; reattaching container=%s",
                self.container_id[:12],
            )
            try:
                stream = attach_output(self.api, self.container_id)
            except docker.errors.NotFound:
                return None
        try:
            return int(self.api.wait(self.container_id, timeout=None)["StatusCode"])
        except docker.errors.NotFound:
            return None

    def _still_running(self) -> bool:
        try:
            state = self.api.inspect_container(self.container_id)["State"]
        except docker.errors.NotFound:
            return False
        return bool(state.get("Running"))

    def _deliver(self, chunk: bytes) -> None:
        self.logbuf.write(chunk)
        if self.on_log is None or self._forward_budget <= 0:
            return
        piece = chunk[: self._forward_budget]
        self._forward_budget -= len(piece)
        text = self._decoder.decode(piece)
        if self._forward_budget <= 0:
            text += "\n[... live log truncated; the stored log keeps the head and the tail ...]\n"
        if text:
            _to_loop(self.loop, _call_listener, self.on_log, text)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class ResourceMonitor:
    """Thread: samples usage every `interval_s` and the work directory every
    `disk_interval_s`; calls `on_disk_exceeded(error)` on the loop once when `disk_error`
    finds the work directory over a cap (it says why, in one line)."""

    def __init__(
        self,
        api: Any,
        container_id: str,
        work_dir: Path,
        disk_error: Callable[[DiskUsage], str],
        loop: asyncio.AbstractEventLoop,
        on_disk_exceeded: Callable[[str], None],
        name: str,
        interval_s: float = 0.1,
        disk_interval_s: float = 0.5,
        max_files: int = 0,
    ) -> None:
        self.api = api
        self.container_id = container_id
        self.work_dir = work_dir
        self.disk_error = disk_error
        self.max_files = max_files
        self.loop = loop
        self.on_disk_exceeded = on_disk_exceeded
        self.interval_s = interval_s
        self.disk_interval_s = disk_interval_s
        self.usage = UsageSample(cpu_seconds=0.0, peak_memory_bytes=0)
        self.memory_bytes = 0  # in use at the last sample (the app's live view reads it)
        self.source = "none"  # "cgroup" or "stats-api": how the numbers were measured
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"hivemind-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> UsageSample:
        """Stops sampling and returns the last numbers. Blocking (at most one interval)."""
        self._stop.set()
        self._thread.join(5.0)
        return self.usage

    def _run(self) -> None:
        try:
            self._sample_until_stopped()
        except Exception:  # measuring must never take the task down
            log.exception("resource monitor failed container=%s", self.container_id[:12])

    def _sample_until_stopped(self) -> None:
        reader = self._cgroup_reader()
        self.source = "cgroup" if reader is not None else "stats-api"
        interval = self.interval_s if reader is not None else STATS_API_INTERVAL_S
        next_disk_check = time.monotonic()
        disk_reported = False
        while True:
            if reader is not None:
                sample = reader.sample()
            else:
                sample = stats_api_sample(
                    self.api, self.container_id, self.usage.peak_memory_bytes or 0
                )
            if sample is not None:
                self._keep(sample)
            now = time.monotonic()
            if not disk_reported and now >= next_disk_check:
                next_disk_check = now + self.disk_interval_s
                error = self.disk_error(disk_usage(self.work_dir, self.max_files))
                if error:
                    disk_reported = True
                    _to_loop(self.loop, self.on_disk_exceeded, error)
            if self._stop.wait(interval):
                return

    def _cgroup_reader(self) -> CgroupReader | None:
        try:
            pid = int(self.api.inspect_container(self.container_id)["State"].get("Pid") or 0)
        except docker.errors.DockerException:
            return None
        if pid <= 0:
            return None
        return CgroupReader.for_process(pid, self.container_id)

    def _keep(self, sample: UsageSample) -> None:
        if sample.memory_bytes is not None:
            self.memory_bytes = sample.memory_bytes
        # Counters only grow; a late sample of a dying cgroup must not lower them.
        self.usage = UsageSample(
            cpu_seconds=max(self.usage.cpu_seconds or 0.0, sample.cpu_seconds or 0.0),
            peak_memory_bytes=max(self.usage.peak_memory_bytes or 0, sample.peak_memory_bytes or 0),
        )


def _to_loop(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    # A closed loop means nobody waits for this any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            close()


def _resolve(future: asyncio.Future, outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _call_listener(listener: LogCallback, text: str) -> None:
    try:
        listener(text)
    except Exception:  # a listener's bug must not break the task
        log.exception("log listener failed")
