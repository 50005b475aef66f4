"""A task that floods the contributor's disk with empty files (no bytes, an inode each) is
stopped like one that writes too many bytes, in both executors, and its output never becomes
a result the submitter could not unpack; the worker goes on with honest work."""

from __future__ import annotations

import uuid

import pytest

from proto.hivemind.v1 import common_pb2
from tests.kit.ci import unavailable
from tests.kit.network import (
    download_results,
    submit,
    wait_for_job,
    write_package,
)
from tests.kit.waiting import wait_until

FLOOD = """
    import os, time
    out = os.environ["HIVEMIND_OUTPUT"]
    count = 40_000 if os.environ["HIVEMIND_TASK_INDEX"] == "0" else 10_001
    for i in range(count):
        open(os.path.join(out, f"f{i}"), "w").close()
    if count == 40_000:
        time.sleep(60)  # the first waits to be stopped; the second ends by itself
"""
HONEST = """
    import os
    with open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "answer.txt"), "w") as f:
        f.write("42")
"""


@pytest.fixture
def server_settings():
    return {"heartbeat_interval_s": 1, "bittorrent": False}


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
async def executor(request):
    if request.param == "process":
        from app.services.executors.process.executor import ProcessExecutor

        yield ProcessExecutor(disk_check_interval_s=0.5)
        return
    from app.services.executors.docker.executor import DockerExecutor

    executor = DockerExecutor(instance=f"test-flood-{uuid.uuid4().hex[:8]}")
    availability = await executor.available()
    if not availability:
        unavailable("Docker", availability.reason)
    if "python-3.11" not in executor.runtimes():
        unavailable("Docker", "runtime image hivemind/python:3.11 missing (make runtime-image)")
    yield executor
    await executor.cleanup_leftovers()


async def test_a_flood_of_empty_files_is_stopped_and_never_a_result(
    server, network, executor, tmp_path
):
    mallory = await network.person(server.address, "mallory")
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    worker = network.start_worker(bob, executor=executor)

    flood = write_package(tmp_path / "flood", FLOOD)
    job = await submit(mallory, flood, tasks=2, max_attempts=1, timeout_s=120)
    job = await wait_for_job(mallory, job.job_id, timeout=120)
    assert job.state == common_pb2.JOB_STATE_FAILED
    results = await download_results(mallory, job.job_id, tmp_path / "mallory")
    errors = {r.index: r.error for r in results.results}
    assert errors[0].startswith("killed: too many files (more than 25000) in the work directory")
    assert errors[1].startswith(
        "the task wrote more than 10000 files to its output; a result holds at most 10000"
        " (pack them into fewer files)"
    )
    assert not any(r.result_digest for r in results.results)
    # Nothing of it stays on the contributor's disk.
    work_root = bob.settings.cache_dir / "work"
    await wait_until(
        lambda: not work_root.exists() or not any(work_root.iterdir()),
        what="the flooded work directories to be removed",
    )

    honest = await submit(alice, write_package(tmp_path / "honest", HONEST), tasks=1)
    honest = await wait_for_job(alice, honest.job_id, timeout=120)
    assert honest.state == common_pb2.JOB_STATE_DONE
    await download_results(alice, honest.job_id, tmp_path / "alice")
    assert (tmp_path / "alice" / "0" / "answer.txt").read_text() == "42"
    assert worker.executor is executor
