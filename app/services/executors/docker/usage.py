"""Measuring a running container: CPU seconds, memory now and at its peak (from its cgroup, or
the Docker stats API when the cgroup is out of reach). The same numbers serve the attempt's
report and the app's live "HiveMind" share of the machine. Its work directory: executors/disk.py.

All of this is blocking file or HTTP work, run on the per-attempt monitor thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class UsageSample:
    cpu_seconds: float | None = None
    peak_memory_bytes: int | None = None
    memory_bytes: int | None = None  # in use now


class CgroupReader:
    """Reads one container's cgroup files directly: cheap enough to sample ten times a
    second, and the only way to get numbers close to the end of a short task (the cgroup
    disappears with the container, so the last sample is the final answer)."""

    def __init__(
        self,
        cpu_file: Path,
        cpu_in_usec: bool,
        peak_file: Path | None,
        current_file: Path | None,
    ) -> None:
        self.cpu_file = cpu_file
        self.cpu_in_usec = cpu_in_usec  # cgroup v2 cpu.stat says usage_usec; v1 says ns
        self.peak_file = peak_file
        self.current_file = current_file
        self._peak_seen = 0

    @classmethod
    def for_process(
        cls,
        pid: int,
        container_id: str,
        *,
        proc_root: Path = Path("/proc"),
        cgroup_root: Path = CGROUP_ROOT,
    ) -> CgroupReader | None:
        """The reader for the cgroup of `pid` (the container's init as the daemon sees it),
        or None when that is not this container's cgroup as we see it (remote daemon,
        another pid namespace, Docker Desktop's VM)."""
        try:
            lines = (proc_root / str(pid) / "cgroup").read_text().splitlines()
        except OSError:
            return None
        v1: dict[str, str] = {}
        unified = None
        for line in lines:
            parts = line.split(":", 2)
            if len(parts) != 3 or container_id not in parts[2]:
                continue
            if parts[0] == "0" and not parts[1]:
                unified = parts[2]
            for controller in parts[1].split(","):
                v1[controller] = parts[2]
        if "cpuacct" in v1 and "memory" in v1:
            cpu = _v1_dir(cgroup_root, "cpuacct", v1["cpuacct"]) / "cpuacct.usage"
            memory = _v1_dir(cgroup_root, "memory", v1["memory"])
            reader = cls(
                cpu, False, memory / "memory.max_usage_in_bytes", memory / "memory.usage_in_bytes"
            )
        elif unified is not None:
            base = cgroup_root / unified.lstrip("/")
            peak = base / "memory.peak"
            reader = cls(
                base / "cpu.stat", True, peak if peak.exists() else None, base / "memory.current"
            )
        else:
            return None
        return reader if reader.cpu_file.exists() else None

    def sample(self) -> UsageSample | None:
        """The usage so far, or None once the cgroup is gone."""
        try:
            raw = self.cpu_file.read_text()
            if self.cpu_in_usec:
                usec = next(
                    int(line.split()[1])
                    for line in raw.splitlines()
                    if line.startswith("usage_usec")
                )
                cpu = usec / 1e6
            else:
                cpu = int(raw) / 1e9
            current = _read_int(self.current_file)
            if self.peak_file is not None:
                peak = int(self.peak_file.read_text())
            elif current is not None:
                peak = max(self._peak_seen, current)
            else:
                peak = 0
        except (OSError, ValueError, StopIteration, IndexError):
            return None
        self._peak_seen = peak
        return UsageSample(cpu_seconds=cpu, peak_memory_bytes=peak, memory_bytes=current)


def _read_int(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def _v1_dir(root: Path, controller: str, path: str) -> Path:
    direct = root / controller / path.lstrip("/")
    if direct.exists():
        return direct
    # Some distributions mount the pair as one hierarchy, cpu,cpuacct.
    return root / f"cpu,{controller}" / path.lstrip("/")


def stats_api_sample(api: Any, container_id: str, peak_so_far: int) -> UsageSample | None:
    """One sample from the Docker stats API (slower; used when the cgroup is out of reach)."""
    try:
        stats = api.stats(container_id, stream=False, one_shot=True)
    except Exception:  # the container may be gone between two samples
        return None
    try:
        cpu_ns = stats["cpu_stats"]["cpu_usage"]["total_usage"]
    except (KeyError, TypeError):
        return None
    memory = stats.get("memory_stats") or {}
    current = int(memory.get("usage") or 0)
    peak = max(peak_so_far, int(memory.get("max_usage") or 0), current)
    return UsageSample(cpu_seconds=cpu_ns / 1e9, peak_memory_bytes=peak, memory_bytes=current)
