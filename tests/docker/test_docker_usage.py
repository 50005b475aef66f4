"""Reading a container's usage from its cgroup. This machine has cgroup v1 (the Docker tests
measure it for real); cgroup v2 and the cpu,cpuacct layout are read from small FAKE trees
written here in the kernel's file formats, since no such host is at hand."""

from __future__ import annotations

from pathlib import Path

from app.services.executors.disk import disk_usage
from app.services.executors.docker.usage import CgroupReader

CONTAINER = "4f" * 32


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_systemd_scope(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    scope = f"/system.slice/docker-{CONTAINER}.scope"
    _write(proc / "42" / "cgroup", f"0::{scope}\n")
    _write(root / scope[1:] / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\n")
    _write(root / scope[1:] / "memory.peak", str(48 * 1024 * 1024))
    _write(root / scope[1:] / "memory.current", str(20 * 1024 * 1024))
    reader = CgroupReader.for_process(42, CONTAINER, proc_root=proc, cgroup_root=root)
    assert reader is not None
    sample = reader.sample()
    assert sample.cpu_seconds == 2.5
    assert sample.peak_memory_bytes == 48 * 1024 * 1024


def test_cgroup_v2_without_memory_peak_keeps_the_highest_current(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    group = root / "docker" / CONTAINER
    _write(proc / "7" / "cgroup", f"0::/docker/{CONTAINER}\n")
    _write(group / "cpu.stat", "usage_usec 1000\n")
    _write(group / "memory.current", "300")
    reader = CgroupReader.for_process(7, CONTAINER, proc_root=proc, cgroup_root=root)
    assert reader.sample().peak_memory_bytes == 300
    _write(group / "memory.current", "100")
    assert reader.sample().peak_memory_bytes == 300
    for name in ("cpu.stat", "memory.current"):
        (group / name).unlink()  # the container ended: its cgroup is gone
    assert reader.sample() is None


def test_cgroup_v1_with_the_cpu_cpuacct_pair(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    path = f"/docker/{CONTAINER}"
    _write(proc / "9" / "cgroup", f"4:memory:{path}\n2:cpu,cpuacct:{path}\n0::{path}\n")
    _write(root / "cpu,cpuacct" / path[1:] / "cpuacct.usage", "1500000000\n")
    _write(root / "memory" / path[1:] / "memory.max_usage_in_bytes", "7340032\n")
    reader = CgroupReader.for_process(9, CONTAINER, proc_root=proc, cgroup_root=root)
    sample = reader.sample()
    assert sample.cpu_seconds == 1.5
    assert sample.peak_memory_bytes == 7340032


def test_another_containers_cgroup_is_not_ours(tmp_path):
    proc = tmp_path / "proc"
    _write(proc / "5" / "cgroup", "0::/docker/someone-else\n")
    assert CgroupReader.for_process(5, CONTAINER, proc_root=proc, cgroup_root=tmp_path) is None
    assert CgroupReader.for_process(6, CONTAINER, proc_root=proc, cgroup_root=tmp_path) is None


def test_disk_usage_counts_what_is_really_used_and_every_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "data.bin").write_bytes(b"x" * 100_000)
    with open(tmp_path / "sparse.bin", "wb") as handle:
        handle.truncate(1 << 30)  # 1 GiB long, nothing written: no disk used
    for n in range(50):
        (tmp_path / f"empty{n}").touch()  # no bytes, but an inode each
    used = disk_usage(tmp_path)
    assert 100_000 <= used.bytes < 1 << 20
    assert used.files == 1 + 1 + 1 + 50
    assert disk_usage(tmp_path, stop_above_files=10).files > 10
