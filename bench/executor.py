"""Per-task overhead of the executors, for a task that does nothing (`true`).

Prints one JSON line:
  docker_overhead_s   median time of DockerExecutor.run (create, attach, start, wait, remove)
  raw_docker_run_s    median time of `docker run --rm` with the same hardening flags, measured
                      in the same run, interleaved with the executor's runs
  ratio               docker_overhead_s / raw_docker_run_s (target <= 1.1)
  process_overhead_s  median time of ProcessExecutor.run, or null when it is not available

    .venv/bin/python bench/executor.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.executors.base import TaskSpec
from app.services.executors.docker.config import build_plan, container_user
from app.services.executors.docker.executor import DockerExecutor

NOOP = ["true"]


def _spec(root: Path, n: int) -> TaskSpec:
    work = root / f"attempt-{n}"
    (work / "package").mkdir(parents=True)
    return TaskSpec(
        attempt_id=f"bench-{uuid.uuid4().hex[:12]}",
        job_id="bench",
        task_index=n,
        runtime="python-3.11",
        command=NOOP,
        package_dir=work / "package",
        output_dir=work / "output",
        work_dir=work,
        memory_mb=64,
        disk_mb=64,
        timeout_s=30,
    )


def _raw_docker_run(executor: DockerExecutor, spec: TaskSpec) -> float:
    """`docker run --rm` of the very container the executor would create."""
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    plan = build_plan(
        spec,
        executor.image_for(spec),
        instance=executor.instance,
        user=container_user(),
        pids_limit=executor.pids_limit,
    )
    argv = ["docker", "run", "--rm", *plan.cli_flags(), plan.image, *plan.command]
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def _timed_run(executor, spec: TaskSpec) -> float:
    started = time.perf_counter()
    result = await executor.run(spec, asyncio.Event())
    elapsed = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"{executor.name} executor failed the no-op task: {result.error}")
    return elapsed


def _process_executor():
    try:
        from app.services.executors.process.executor import ProcessExecutor
    except ImportError:
        return None
    return ProcessExecutor()


async def measure(runs: int) -> dict[str, float | int | None]:
    if shutil.which("docker") is None:
        raise SystemExit("the docker CLI is needed for the raw baseline")
    executor = DockerExecutor(instance=f"bench-{uuid.uuid4().hex[:8]}")
    status = await executor.available()
    if not status:
        raise SystemExit(status.reason)
    process = _process_executor()
    docker_times: list[float] = []
    raw_times: list[float] = []
    process_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hivemind-bench-") as tmp:
        root = Path(tmp)
        n = 0
        for i in range(runs + 1):  # the first round warms caches and is not counted
            n += 1
            docker_time = await _timed_run(executor, _spec(root, n))
            n += 1
            raw_time = await asyncio.to_thread(_raw_docker_run, executor, _spec(root, n))
            process_time = None
            if process is not None:
                n += 1
                process_time = await _timed_run(process, _spec(root, n))
            if i == 0:
                continue
            docker_times.append(docker_time)
            raw_times.append(raw_time)
            if process_time is not None:
                process_times.append(process_time)
    await executor.cleanup_leftovers()
    docker_median = statistics.median(docker_times)
    raw_median = statistics.median(raw_times)
    return {
        "docker_overhead_s": round(docker_median, 4),
        "raw_docker_run_s": round(raw_median, 4),
        "ratio": round(docker_median / raw_median, 3),
        "process_overhead_s": round(statistics.median(process_times), 4) if process_times else None,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs of each (median)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    logging.basicConfig(level=logging.ERROR)  # keep stdout to the one JSON line
    print(json.dumps(asyncio.run(measure(args.runs))))


if __name__ == "__main__":
    main()
