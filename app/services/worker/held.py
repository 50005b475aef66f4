"""The attempts a worker holds: each one's lease and progress (`HeldAttempt`, from lease until
the server acknowledged it), and what all of them share (`AttemptDeps`). The agent, the
heartbeats, the policy gate, the attempt itself and its report all read these, so they live
below every one of those modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.services.executors.base import Executor
from app.services.worker import events as ev
from app.services.worker.results import PendingReports
from proto.hivemind.v1 import node_pb2

if TYPE_CHECKING:
    from app.services.torrent.fetch import TorrentFetcher
    from app.services.worker.runtime_fetch import RuntimeProvisioner


@dataclass
class HeldAttempt:
    """An attempt this node holds a lease on, from lease until the server acknowledged it."""

    lease: node_pb2.TaskLease
    cores: int
    memory_mb: int
    gpus: int = 0
    gpu_devices: tuple[str, ...] = ()  # the GPUs (NVML UUIDs) this attempt was given
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = ""  # "server" (job cancelled / lease lost) or "stop" (worker stops)
    stage: str = "preparing"  # preparing | running | reporting
    paused: bool = False

    @property
    def tag(self) -> str:
        lease = self.lease
        return f"attempt={lease.attempt_id} job={lease.job_id} task={lease.task_index}"


@dataclass
class AttemptDeps:
    """What every attempt uses; `node()` returns the current node-authenticated proxies
    (they change when the node has to register again)."""

    node: Callable[[], Any]
    executor: Executor
    events: ev.WorkerEvents
    cache_dir: Path
    pending: PendingReports
    cpu_percent: Callable[[], int]
    abandon: asyncio.Event  # set on a hard stop: stop retrying reports, keep them on disk
    allowed: asyncio.Event  # cleared while a policy pauses the worker: no task starts then
    # digest -> (lock, attempts using it): one download per digest at a time.
    download_locks: dict[str, tuple[asyncio.Lock, int]] = field(default_factory=dict)
    # Fetches and loads a missing runtime image (Docker only; None: the executor needs none).
    runtimes: RuntimeProvisioner | None = None
    # Packages, inputs and results go over BitTorrent first when it is on; None, or a failed
    # swarm, means the gRPC stream.
    torrents: TorrentFetcher | None = None

    @property
    def work_root(self) -> Path:
        return self.cache_dir / "work"

    @property
    def results_root(self) -> Path:
        return self.cache_dir / "results"
