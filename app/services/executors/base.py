"""What every executor offers the worker agent.

The worker prepares a work dir (package unpacked, input fetched, empty output dir), builds a
`TaskSpec` and awaits `Executor.run`. Inside the task the same variables are always set:
HIVEMIND_TASK_DIR, HIVEMIND_INPUT, HIVEMIND_OUTPUT, HIVEMIND_TASK_INDEX (the Docker executor
points them at /task, /input/<name>, /output).

A comparison (the job's compare command judging two replicas' results) is a task
with `results_dirs` set: both results unpacked read-only, named by HIVEMIND_RESULTS_A and
HIVEMIND_RESULTS_B (/results/a and /results/b in Docker); it has no input.

A task of a job with rounds also sees HIVEMIND_ROUND and HIVEMIND_ROUNDS, and the round's
model read-only in HIVEMIND_MODEL (`model_dir`; /model in Docker; empty in round 0). The
round's aggregate has every accepted output of the round read-only in HIVEMIND_RESULTS
(`round_outputs_dir`, one folder per task; /results in Docker) and no input.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LOG_LIMIT = 64 * 1024
# A package holds at most 10,000 entries and a result 10,000 files (worker/results.py).
DEFAULT_MAX_FILES = 25_000


@dataclass
class TaskSpec:
    attempt_id: str
    job_id: str
    task_index: int
    runtime: str
    command: list[str]
    package_dir: Path  # the unpacked package (read-only inside the task)
    output_dir: Path  # the only place a task may write its result
    work_dir: Path  # holds package_dir, output_dir and input; disk cap applies here
    input_path: Path | None = None
    runtime_image: str = ""
    cores: int = 1
    cpu_percent: int = 100  # the contributor's CPU % slider
    memory_mb: int = 256
    disk_mb: int = 1024
    # Entries in the work dir (the package's, the input, what the task writes); 0 = no cap.
    max_files: int = DEFAULT_MAX_FILES
    gpus: int = 0
    timeout_s: int = 60
    log_limit: int = DEFAULT_LOG_LIMIT
    env: dict[str, str] = field(default_factory=dict)
    # Set for a comparison: the two results to compare (read-only); None for a normal task.
    results_dirs: tuple[Path, Path] | None = None
    # A job with rounds: the round's model, the round's outputs for its aggregate (both
    # read-only; None when there is none), the round (0-based) and how many there are.
    model_dir: Path | None = None
    round_outputs_dir: Path | None = None
    round: int = 0
    rounds: int = 1


def round_environment(
    round_index: int, rounds: int, model: Path | str | None, outputs: Path | str | None
) -> dict[str, str]:
    """HIVEMIND_ROUND, HIVEMIND_ROUNDS, HIVEMIND_MODEL and HIVEMIND_RESULTS, with the paths
    the task sees the model and the round's outputs at (empty when it has none)."""
    return {
        "HIVEMIND_ROUND": str(round_index),
        "HIVEMIND_ROUNDS": str(rounds),
        "HIVEMIND_MODEL": str(model) if model is not None else "",
        "HIVEMIND_RESULTS": str(outputs) if outputs is not None else "",
    }


@dataclass
class ExecutionResult:
    exit_code: int | None
    error: str = ""  # empty when the task succeeded; else one line a person understands
    log: str = ""
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_memory_mb: int = 0
    timed_out: bool = False
    cancelled: bool = False
    # What ended the task when it did not end by itself: "timeout", "cancel", "memory" or
    # "disk". A comparison's exit code 1 is a verdict only when this is empty (a task killed
    # at its memory limit may still exit with 1 from its signal handler).
    killed_by: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.exit_code == 0 and not self.cancelled

    @property
    def ended_by_itself(self) -> bool:
        """The task's process exited with `exit_code` of its own accord."""
        return (
            self.exit_code is not None
            and not self.killed_by
            and not self.timed_out
            and not self.cancelled
        )


class LogBuffer:
    """Keeps stdout/stderr within `limit` bytes: the head and the tail, with a marker
    saying how much was dropped in between."""

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        self.limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def write(self, data: bytes) -> None:
        half = self.limit // 2
        room = half - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data:
            return
        self._tail += data
        if len(self._tail) > half:
            cut = len(self._tail) - half
            self.dropped += cut
            del self._tail[:cut]

    def text(self) -> str:
        head = self._head.decode("utf-8", "replace")
        tail = self._tail.decode("utf-8", "replace")
        if self.dropped:
            return f"{head}\n[... {self.dropped} bytes of log dropped ...]\n{tail}"
        return head + tail


LogCallback = Callable[[str], None]


@dataclass(frozen=True)
class OutsideUsage:
    """What an executor's tasks use outside this process tree (containers are children of the
    Docker daemon, not of the worker): CPU seconds used so far, a counter that only grows while
    the executor lives, and the memory they hold now."""

    cpu_seconds: float = 0.0
    memory_bytes: int = 0


class Executor(abc.ABC):
    """Runs one task attempt to completion, within its limits."""

    name: str = "base"

    @abc.abstractmethod
    async def run(
        self, spec: TaskSpec, cancel: asyncio.Event, on_log: LogCallback | None = None
    ) -> ExecutionResult:
        """Runs the task; returns when it ended, was killed at its deadline, or `cancel` was set
        (then within 2 s). Never raises for a task's own failure: that is in the result."""

    async def pause(self, attempt_id: str) -> None:  # noqa: B027 - optional capability
        """Suspends a running task (policy says stop); no CPU is used while paused."""

    async def resume(self, attempt_id: str) -> None:  # noqa: B027 - optional capability
        """Resumes a paused task."""

    async def cleanup_leftovers(self) -> int:
        """Removes what a crashed worker left behind; returns how many things it removed."""
        return 0

    def runtimes(self) -> list[str]:
        """Runtimes this executor can run right now."""
        return []

    def outside_usage(self) -> OutsideUsage:
        """The tasks' usage that the worker's own process tree does not show. Tasks of the
        process executor are the worker's children, so it has none. Callable from any thread."""
        return OutsideUsage()
