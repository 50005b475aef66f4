"""The examples, unchanged, through a worker whose tasks run in the Docker runtime image.

Skips locally without dockerd or the image; fails under CI=true (as tests/docker does)."""

from __future__ import annotations

import collections
import json
import re
import uuid

import pytest

from proto.hivemind.v1 import common_pb2
from tests.kit.ci import unavailable
from tests.kit.network import download_results, submit, wait_for_job
from tests.kit.paths import EXAMPLES
from tests.worker.montecarlo import run_montecarlo

pytestmark = pytest.mark.docker


@pytest.fixture
async def docker_executor():
    from app.services.executors.docker.executor import DockerExecutor

    executor = DockerExecutor(instance=f"test-worker-{uuid.uuid4().hex[:8]}")
    availability = await executor.available()
    problem = availability.reason if not availability else ""
    if not problem and "python-3.11" not in executor.runtimes():
        problem = "runtime image hivemind/python:3.11 missing (make runtime-image)"
    if problem:
        unavailable("Docker", problem)
    yield executor
    await executor.cleanup_leftovers()


@pytest.fixture
def server_settings():
    # Three owners' workers on this one machine: networks cannot be told apart here (a
    # private network's setting); tests/security proves the rule from distinct addresses.
    return {"heartbeat_interval_s": 1, "distinct_networks": False}


async def test_wordcount_in_docker_counts_exactly(server, network, docker_executor, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    worker = network.start_worker(bob, executor=docker_executor)
    inputs = sorted((EXAMPLES / "wordcount" / "inputs").glob("*.txt"))

    job = await submit(alice, EXAMPLES / "wordcount", inputs=inputs)
    job = await wait_for_job(alice, job.job_id, timeout=120)
    assert job.state == common_pb2.JOB_STATE_DONE
    assert worker.executor.name == "docker"

    await download_results(alice, job.job_id, tmp_path / "results")
    merged = collections.Counter()
    for folder in (tmp_path / "results").iterdir():
        merged.update(json.loads((folder / "counts.json").read_text())["counts"])
    expected = collections.Counter()
    for path in inputs:
        expected.update(re.findall(r"\w+", path.read_text().lower()))
    assert merged == expected


async def test_montecarlo_compared_in_docker(server, network, docker_executor, tmp_path):
    """examples/montecarlo with three owners' workers in the Docker runtime: replicas that
    differ are compared by compare.py in the sandbox, with both results read-only."""
    from app.services.executors.docker.executor import DockerExecutor

    def executor():
        return DockerExecutor(instance=f"test-worker-{uuid.uuid4().hex[:8]}")

    try:
        await run_montecarlo(server, network, tmp_path, executor_factory=executor)
    finally:
        await network.stop_workers()
