"""The app's "HiveMind" share of the machine counts the task containers: they are children of
the Docker daemon, not of the worker, so the worker's process tree alone shows almost nothing
while a container keeps a core busy. Real dockerd, real runtime image."""

from __future__ import annotations

import asyncio

import psutil

from app.services.monitor import UsageMonitor

BUSY_AND_HOLDING_MEMORY = """
import time
held = bytearray(80 * 1024 * 1024)  # 80 MB, touched so it is really in use
for i in range(0, len(held), 4096):
    held[i] = 1
end = time.time() + 4
while time.time() < end:
    pass
"""


async def test_a_busy_container_shows_in_hivemind_cpu_and_memory(executor, make_spec):
    monitor = UsageMonitor(outside=executor.outside_usage)
    cores = psutil.cpu_count(logical=True) or 1
    spec = make_spec(BUSY_AND_HOLDING_MEMORY, cores=1, memory_mb=256, timeout_s=30)
    run = asyncio.ensure_future(executor.run(spec, asyncio.Event()))
    samples = []
    while not run.done():
        await asyncio.sleep(0.5)
        samples.append((monitor.sample(), executor.outside_usage()))
    result = run.result()
    assert result.ok, result.error

    # The container kept (up to) a core busy for seconds: the chart's HiveMind line shows that
    # share of the machine. A loaded machine gives it less than a core, so the line is held
    # to what the container really got (its own CPU seconds over its run).
    container_share = 100 * result.cpu_seconds / result.wall_seconds / cores
    busiest = max(sample.hivemind_cpu_percent for sample, _outside in samples)
    assert busiest >= 0.6 * container_share > 1, (container_share, samples)
    held_mb = max(outside.memory_bytes for _sample, outside in samples) // (1024 * 1024)
    assert held_mb >= 80, samples
    own_mb = psutil.Process().memory_info().rss // (1024 * 1024)
    assert max(sample.hivemind_memory_mb for sample, _outside in samples) >= own_mb + 60
    # The CPU counter keeps what ended containers used, so it never drops between samples
    # (compared at the result's precision: a result's CPU seconds are rounded to milliseconds).
    assert round(executor.outside_usage().cpu_seconds, 3) >= result.cpu_seconds > 0
    assert executor.outside_usage().memory_bytes == 0
