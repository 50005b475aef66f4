"""What this machine has and how busy it is, for RegisterNode and heartbeats (psutil).

Everything here is cheap enough to call on the event loop: a sample compares the CPU times
with the monitor's previous sample instead of sleeping, and the CPU model is read once.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.services.executors.base import OutsideUsage

MB = 1024 * 1024
# psutil finds a process's children by reading every /proc/<pid>/stat of the machine; Linux
# also lists each thread's children in /proc/<pid>/task/<tid>/children, a few small reads.
_PROC_CHILDREN = Path(f"/proc/self/task/{threading.get_native_id()}/children").exists()


@dataclass(frozen=True)
class HardwareFacts:
    cores: int
    memory_mb: int
    disk_mb: int  # free space where the worker keeps its cache
    os: str
    arch: str
    cpu_model: str
    hostname: str
    gpus: int = 0


@dataclass(frozen=True)
class UsageSample:
    cpu_percent: float  # whole machine, 0-100
    memory_used_mb: int  # whole machine
    hivemind_cpu_percent: float  # this worker and its tasks, as a share of the whole machine
    hivemind_memory_mb: int


@functools.cache
def cpu_model() -> str:
    """The CPU's marketing name, or the architecture when the OS does not say."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def os_name() -> str:
    system = platform.system() or "unknown"
    if system == "Linux":
        try:
            release = platform.freedesktop_os_release()
            return f"Linux ({release.get('PRETTY_NAME', 'unknown distribution')})"
        except OSError:
            return "Linux"
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0]}".strip()
    return f"{system} {platform.release()}".strip()


def hardware_facts(disk_path: Path | None = None) -> HardwareFacts:
    """Cores, memory, free disk at `disk_path` (default: home), OS, arch, CPU, hostname."""
    path = Path(disk_path) if disk_path else Path.home()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        disk_mb = psutil.disk_usage(str(path)).free // MB
    except OSError:
        disk_mb = 0
    return HardwareFacts(
        cores=psutil.cpu_count(logical=True) or os.cpu_count() or 1,
        memory_mb=psutil.virtual_memory().total // MB,
        disk_mb=disk_mb,
        os=os_name(),
        arch=platform.machine() or "unknown",
        cpu_model=cpu_model(),
        hostname=socket.gethostname(),
    )


class UsageMonitor:
    """Live usage of the machine and of HiveMind's share of it: this process and its children
    (for the process executor that includes the tasks), plus what `outside` reports of the
    tasks that run elsewhere (the Docker executor's containers, children of the daemon)."""

    def __init__(
        self,
        pid: int | None = None,
        *,
        outside: Callable[[], OutsideUsage] | None = None,
    ) -> None:
        self._self = psutil.Process(pid or os.getpid())
        self._cores = psutil.cpu_count(logical=True) or 1
        self._outside = outside
        # Per-process cpu_percent needs the same Process object between calls.
        self._tracked: dict[int, psutil.Process] = {}
        self._outside_before: tuple[float, float] | None = None  # (CPU seconds, monotonic s)
        self._machine_before: tuple[float, float] | None = None  # (all CPU time, idle time)
        self._machine_cpu()  # primes the machine-wide counter
        self._hivemind_cpu()
        self._outside_usage()

    def sample(self) -> UsageSample:
        memory = psutil.virtual_memory()
        cpu, rss = self._hivemind_cpu()
        outside_cpu, outside_memory = self._outside_usage()
        return UsageSample(
            cpu_percent=self._machine_cpu(),
            memory_used_mb=(memory.total - memory.available) // MB,
            hivemind_cpu_percent=round(min(100.0, (cpu + outside_cpu) / self._cores), 1),
            hivemind_memory_mb=(rss + outside_memory) // MB,
        )

    def _machine_cpu(self) -> float:
        """The whole machine's CPU % since this monitor's last sample. Not
        psutil.cpu_percent(interval=None): its one baseline is shared by every caller in the
        process, so the app's chart and the worker's heartbeat would cut each other's
        intervals short (the chart jumped between 0 and 100%)."""
        times = psutil.cpu_times()
        total = sum(times)
        idle = times.idle + getattr(times, "iowait", 0.0)
        before, self._machine_before = self._machine_before, (total, idle)
        if before is None or total <= before[0]:
            return 0.0
        busy = 1 - (idle - before[1]) / (total - before[0])
        return round(100 * min(1.0, max(0.0, busy)), 1)

    def _outside_usage(self) -> tuple[float, int]:
        """(CPU % since the last sample, where 100 = one core; memory bytes now) of `outside`."""
        if self._outside is None:
            return 0.0, 0
        usage = self._outside()
        now = time.monotonic()
        before, self._outside_before = self._outside_before, (usage.cpu_seconds, now)
        if before is None or now <= before[1] or usage.cpu_seconds < before[0]:
            return 0.0, usage.memory_bytes  # first sample, or a new executor's counter
        return 100 * (usage.cpu_seconds - before[0]) / (now - before[1]), usage.memory_bytes

    def _tree(self) -> list[psutil.Process]:
        """This process and its descendants (known Process objects reused)."""
        pids = _descendant_pids(self._self.pid) if _PROC_CHILDREN else None
        if pids is None:
            try:
                return [self._self, *self._self.children(recursive=True)]
            except psutil.Error:
                return [self._self]
        tree = [self._self]
        for pid in pids:
            known = self._tracked.get(pid)
            if known is None:
                try:
                    known = psutil.Process(pid)
                except psutil.Error:
                    continue
            tree.append(known)
        return tree

    def _hivemind_cpu(self) -> tuple[float, int]:
        """(CPU % summed over this process tree, where 100 = one core; RSS bytes)."""
        current = self._tree()
        alive: dict[int, psutil.Process] = {}
        cpu = 0.0
        rss = 0
        for proc in current:
            tracked = self._tracked.get(proc.pid, proc)
            try:
                cpu += tracked.cpu_percent(interval=None)
                rss += tracked.memory_info().rss
            except psutil.Error:
                continue
            alive[proc.pid] = tracked
        self._tracked = alive
        return cpu, rss


def _descendant_pids(root: int) -> list[int] | None:
    """The pids below `root`, from each thread's /proc/<pid>/task/<tid>/children (Linux);
    None when `root` cannot be read."""
    found: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            if pid == root:
                return None
            continue  # it ended meanwhile
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as listing:
                    children = [int(child) for child in listing.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(children)
            stack.extend(children)
    return found


def free_capacity(
    limit_cores: int, limit_memory_mb: int, total_cores: int, total_memory_mb: int
) -> tuple[int, int]:
    """What the contributor lends: 0 means all cores and 75% of memory; a limit above the
    machine is clamped to the machine."""
    cores = total_cores if limit_cores <= 0 else min(limit_cores, total_cores)
    default_memory = total_memory_mb * 3 // 4
    memory = default_memory if limit_memory_mb <= 0 else min(limit_memory_mb, total_memory_mb)
    return cores, memory
