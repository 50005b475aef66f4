"""Hardware facts and live usage a node reports, and what the contributor's limits leave."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psutil

from app.services.monitor import UsageMonitor, free_capacity, hardware_facts


def test_hardware_facts_describe_this_machine(tmp_path):
    facts = hardware_facts(tmp_path)
    assert facts.cores == psutil.cpu_count(logical=True)
    assert facts.memory_mb == psutil.virtual_memory().total // (1024 * 1024)
    assert 0 < facts.disk_mb <= psutil.disk_usage(str(tmp_path)).total // (1024 * 1024)
    assert facts.hostname == socket.gethostname()
    assert facts.os and facts.arch and facts.cpu_model


def test_zero_means_all_cores_and_three_quarters_of_memory():
    assert free_capacity(0, 0, total_cores=8, total_memory_mb=16000) == (8, 12000)
    assert free_capacity(2, 1024, total_cores=8, total_memory_mb=16000) == (2, 1024)
    # A limit above the machine is the machine.
    assert free_capacity(64, 10**6, total_cores=8, total_memory_mb=16000) == (8, 16000)


def test_usage_counts_hivemind_children():
    monitor = UsageMonitor()
    burner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.3)
        monitor.sample()  # the first look at a new child only primes its counter
        child = psutil.Process(burner.pid)
        cpu_before, started = sum(child.cpu_times()[:2]), time.monotonic()
        time.sleep(1.0)
        sample = monitor.sample()
        used = sum(child.cpu_times()[:2]) - cpu_before
        elapsed = time.monotonic() - started
    finally:
        burner.kill()
        burner.wait()
    cores = psutil.cpu_count(logical=True) or 1
    # The busy child shows up as HiveMind's share of the machine (however loaded it is).
    child_share = 100 * used / elapsed / cores
    assert sample.hivemind_cpu_percent >= child_share * 0.5 > 0
    assert sample.hivemind_memory_mb > 0
    assert 0 <= sample.cpu_percent <= 100
    assert sample.memory_used_mb > 0
