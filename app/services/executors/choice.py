"""Which executor runs this machine's tasks: the one asked for, opened and checked before the
worker starts, so a machine that cannot sandbox tasks says so at once rather than failing
every task it leases. One rule for `hivemind worker run`, the desktop app and the demo.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.services.executors.base import Executor
from app.services.executors.process.executor import ProcessExecutor

# "auto": Docker when it can run tasks here, else the process executor, with a notice. The
# worker's own settings offer only the two by name: running without a sandbox is a choice.
EXECUTOR_KINDS = ("docker", "process")
AUTO = "auto"


class ExecutorUnavailable(Exception):
    """The executor asked for cannot run tasks here; the message says why in one line."""


@dataclass(frozen=True)
class OpenedExecutor:
    executor: Executor
    notice: str = ""  # what the user should know (a fallback, no runtime image yet); "" = none


async def open_executor(kind: str, *, instance: str, runtime: str = "") -> OpenedExecutor:
    """The executor of `kind` ("docker", "process" or "auto"), ready to run tasks.

    `instance` labels a Docker worker's containers, so two workers on one machine never
    remove each other's. `runtime` names a runtime whose image Docker must already hold to
    count as usable (for a network with no stored images to fetch); without it, Docker with
    no image at all is usable, with a notice: each image is fetched when a task needs it.
    Raises ExecutorUnavailable, or ValueError for an unknown kind."""
    if kind == "process":
        return OpenedExecutor(ProcessExecutor())  # logs the no-sandbox warning once
    if kind not in ("docker", AUTO):
        raise ValueError(f"unknown executor {kind!r}: choose docker or process")
    try:
        return await _open_docker(instance, runtime)
    except ExecutorUnavailable as exc:
        if kind == "docker":
            raise
        notice = f"Docker not used ({exc}): running tasks with the process executor"
        return OpenedExecutor(ProcessExecutor(), notice)


async def _open_docker(instance: str, runtime: str) -> OpenedExecutor:
    try:
        from app.services.executors.docker.executor import DockerExecutor
    except ImportError as exc:
        raise ExecutorUnavailable(f"the Docker executor is not installed ({exc})") from None
    executor = DockerExecutor(instance=instance)
    availability = await executor.available()
    if not availability:
        raise ExecutorUnavailable(availability.reason)
    held = await asyncio.to_thread(executor.runtimes)
    if runtime and runtime not in held:
        image = executor.runtime_images.get(runtime, runtime)
        raise ExecutorUnavailable(f"the runtime image {image} is missing")
    if not held:
        return OpenedExecutor(
            executor,
            "no runtime image is present here yet (hivemind/python:3.11): each is fetched from "
            "the server when a task needs it, if the admin stored it (`make runtime-image "
            "REGISTER_DATA_DIR=...`); or build it here with `make runtime-image`",
        )
    return OpenedExecutor(executor)
