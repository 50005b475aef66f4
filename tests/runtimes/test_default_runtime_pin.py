"""The default runtime is pinned by image id, not a tag: leases name the id, and a worker whose
`hivemind/python:3.11` is some other image does not run the task in it. Real server, real
dockerd (the Docker tests skip locally without it and fail under CI=true)."""

from __future__ import annotations

import uuid

import pytest

from proto.hivemind.v1 import common_pb2, job_pb2
from server.app import HiveMindServer
from server.config import ServerSettings
from server.runtimes.approved import default_runtime
from tests.kit.network import submit as submit_folder
from tests.kit.network import wait_for_job, write_package
from tests.kit.stubs import lease, make_package, register_node, submit, upload

ELSEWHERE = "sha256:" + "e" * 64  # an image that exists on no machine


@pytest.mark.docker
async def test_a_fresh_server_pins_the_default_runtime_to_the_local_image(
    make_server, runtime_image, docker_client, tmp_path
):
    server = await make_server(bittorrent=False)
    record = await server.ctx.db.run(default_runtime)
    assert record.image == runtime_image
    assert record.image_id == docker_client.images.get(runtime_image).id
    await server.stop()
    # Pinned once: a restart (whatever the tag means by then) keeps the id.
    again = await make_server(data_dir=server.settings.data_dir, bittorrent=False)
    assert (await again.ctx.db.run(default_runtime)).image_id == record.image_id


@pytest.mark.parametrize("server_settings", [{"default_runtime_image_id": ELSEWHERE}])
async def test_leases_name_the_pinned_image_not_the_tag(
    server_settings, server, user_session, stubs
):
    alice = await user_session(server, "alice")
    digest = (await upload(stubs, alice.metadata, make_package())).digest
    await submit(stubs, alice.metadata, digest)
    node = await register_node(stubs, alice.metadata, runtimes=("python-3.11",))
    [leased] = await lease(stubs, node)
    assert (leased.runtime, leased.runtime_image) == ("python-3.11", ELSEWHERE)


@pytest.mark.docker
@pytest.mark.parametrize(
    "server_settings", [{"default_runtime_image_id": ELSEWHERE, "heartbeat_interval_s": 1}]
)
async def test_a_worker_whose_tag_is_another_image_does_not_run_the_task(
    server_settings, server, network, runtime_image, tmp_path
):
    from app.services.executors.docker.executor import DockerExecutor

    executor = DockerExecutor(instance=f"test-pin-{uuid.uuid4().hex[:8]}")
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    network.start_worker(bob, executor=executor)
    package = write_package(tmp_path / "job", "print('ran in an unapproved image')\n")
    job = await submit_folder(alice, package, tasks=1, max_attempts=1)
    job = await wait_for_job(alice, job.job_id, timeout=60)
    assert job.state == common_pb2.JOB_STATE_FAILED
    detail = await alice.session.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job.job_id, include_tasks=True)
    )
    error = detail.tasks[0].error
    assert f"(image {ELSEWHERE}) is not on this machine" in error, error
    await executor.cleanup_leftovers()


def test_a_malformed_pin_stops_the_server_with_a_clear_message(tmp_path):
    settings = ServerSettings.load(
        tmp_path, listen="127.0.0.1:0", default_runtime_image_id="hivemind/python:3.11"
    )
    with pytest.raises(ValueError, match="is not a full image id"):
        HiveMindServer(settings)
