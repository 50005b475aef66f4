"""What this node can take on now, under the contributor's limits: the free cores and memory
(the limits, read live from SettingsStore, minus what held attempts reserve), the free GPUs
(those lent, minus those held attempts were given), the free disk, the next lease request,
and the usage heartbeats report.

Runs on the worker's loop; nothing here blocks for long (a psutil sample, a disk_usage call).
"""

from __future__ import annotations

from pathlib import Path

import psutil

from app.services.gpu import offered_gpus
from app.services.monitor import UsageMonitor, free_capacity
from app.services.settings import SettingsStore
from app.services.worker.held import HeldAttempt
from app.services.worker.node import NodeRegistration
from app.services.worker.options import WorkerOptions
from proto.hivemind.v1 import node_pb2

MIN_TASK_MEMORY_MB = 16  # the smallest task the server accepts
MAX_LEASE_BATCH = 64  # leases asked for in one round, at most


class Capacity:
    """The free capacity of one worker; `held` is the agent's live dict of attempts."""

    def __init__(
        self,
        settings_store: SettingsStore,
        options: WorkerOptions,
        registration: NodeRegistration,
        held: dict[str, HeldAttempt],
        cache_dir: Path,
    ) -> None:
        self.settings_store = settings_store
        self.options = options
        self.registration = registration
        self.held = held
        self.cache_dir = cache_dir
        self.monitor: UsageMonitor | None = None  # set when the worker starts

    def free(self) -> tuple[int, int]:
        """(cores, memory MB) still free for new tasks under the contributor's limits now."""
        contributor = self.settings_store.settings.contributor
        cores = self.options.cores if self.options.cores is not None else contributor.cores
        memory = (
            self.options.memory_mb if self.options.memory_mb is not None else contributor.memory_mb
        )
        hw = self.registration.hardware
        total_cores, total_memory = free_capacity(cores, memory, hw.cores, hw.memory_mb)
        used_cores = sum(h.cores for h in self.held.values())
        used_memory = sum(h.memory_mb for h in self.held.values())
        return total_cores - used_cores, total_memory - used_memory

    def lent_gpus(self) -> list[str]:
        """The GPUs (NVML UUIDs) lent now: the share switch and its count, read live, or this
        run's --gpus."""
        contributor = self.settings_store.settings.contributor
        share, allowed = contributor.gpu, contributor.gpus
        if self.options.gpus is not None:
            share, allowed = self.options.gpus > 0, self.options.gpus
        devices = self.registration.gpu_devices
        count = offered_gpus(len(devices), share, allowed, self.registration.gpu_support)
        return [device.uuid for device in devices[:count]]

    def free_gpus(self) -> int:
        """GPUs lent and not given to a held attempt."""
        return max(0, len(self.lent_gpus()) - sum(h.gpus for h in self.held.values()))

    def take_gpus(self, count: int) -> tuple[str, ...]:
        """`count` lent GPUs no held attempt has, for a new attempt (fewer when fewer are
        free: the executor then asks Docker for any `count` of them)."""
        if count <= 0:
            return ()
        taken = {uuid for h in self.held.values() for uuid in h.gpu_devices}
        free = [uuid for uuid in self.lent_gpus() if uuid not in taken]
        return tuple(free[:count]) if len(free) >= count else ()

    def free_disk_mb(self) -> int:
        try:
            free = psutil.disk_usage(str(self.cache_dir)).free // (1024 * 1024)
        except OSError:
            return 0
        cap = self.settings_store.settings.contributor.disk_mb
        return min(free, cap) if cap > 0 else free

    async def lease_request(self) -> node_pb2.LeaseTasksRequest | None:
        """What to ask the server for now; None when nothing fits (no free core, too little
        memory, or as many tasks held as the options allow)."""
        free_cores, free_memory = self.free()
        slots = MAX_LEASE_BATCH
        if self.options.max_tasks > 0:
            slots = self.options.max_tasks - len(self.held)
        if free_cores < 1 or free_memory < MIN_TASK_MEMORY_MB or slots <= 0:
            return None
        return node_pb2.LeaseTasksRequest(
            free_cores=free_cores,
            free_memory_mb=free_memory,
            free_disk_mb=self.free_disk_mb(),
            max_tasks=slots,
            runtimes=await self.registration.runtimes(),
            free_gpus=self.free_gpus(),
        )

    def usage(self) -> node_pb2.Usage:
        """This machine's usage and the node's free capacity, for a heartbeat."""
        free_cores, free_memory = self.free()
        usage = node_pb2.Usage(
            free_cores=max(0, free_cores),
            free_memory_mb=max(0, free_memory),
            free_gpus=self.free_gpus(),
        )
        if self.monitor is not None:
            sample = self.monitor.sample()
            usage.cpu_percent = sample.cpu_percent
            usage.memory_used_mb = sample.memory_used_mb
            usage.hivemind_cpu_percent = sample.hivemind_cpu_percent
            usage.hivemind_memory_mb = sample.hivemind_memory_mb
        return usage
