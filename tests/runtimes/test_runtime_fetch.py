"""A Docker worker without a runtime's image fetches the admin's archive from the server,
checks it, `docker load`s it and runs the task in it; from then on it reports the runtime as
held. Real dockerd, real server, a real (tiny) image that Docker does not have at the start.

Skips locally without dockerd or the runtime image; fails under CI=true (tests/docker's
fixtures)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services.client.transfer import upload_file
from app.services.jobs.package import build_package_zip
from app.services.worker.runtime_fetch import RuntimeProvisioner, RuntimeUnavailable
from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.store.schema import nodes
from tests.kit.admin import admin_json
from tests.kit.network import Person, download_results, wait_for_job
from tests.kit.waiting import wait_until
from tests.runtimes.runtimekit import fake_saved_image

pytestmark = pytest.mark.docker

RUNTIME = "tiny-sh"
COMMAND = ["/bin/sh", "-c", 'echo "hello from task $HIVEMIND_TASK_INDEX" > /output/greeting.txt']


@pytest.fixture
def server_settings():
    return {"heartbeat_interval_s": 1}


@pytest.fixture
async def docker_executor(runtime_image):
    from app.services.executors.docker.executor import DockerExecutor

    executor = DockerExecutor(instance=f"test-runtime-{uuid.uuid4().hex[:8]}")
    yield executor
    await executor.cleanup_leftovers()


async def submit_shell_job(person: Person, folder: Path, tasks: int) -> job_pb2.Job:
    folder.mkdir()
    (folder / "hivemind.toml").write_text(f'[job]\nname = "greet"\nruntime = "{RUNTIME}"\n')
    (folder / "README").write_text("the command is the whole task\n")
    archive = build_package_zip(folder, folder.parent / "greet.zip")
    package = await upload_file(person.session.artifacts, archive, common_pb2.ARTIFACT_KIND_PACKAGE)
    return await person.session.jobs.SubmitJob(
        job_pb2.SubmitJobRequest(
            name="greet",
            runtime=RUNTIME,
            command=COMMAND,
            package_digest=package.digest,
            task_count=tasks,
            resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60),
            idempotency_key=f"test:{uuid.uuid4()}",
        )
    )


async def test_a_worker_fetches_loads_and_runs_a_runtime_it_lacked(
    server, network, docker_executor, docker_client, tiny_image, tmp_path
):
    import docker.errors

    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tiny_image.image_id)  # the worker's Docker lacks it
    admin_json(
        server.settings.data_dir, "runtime", "add", RUNTIME, "--image-archive", str(tiny_image.path)
    )
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    assert RUNTIME not in docker_executor.runtimes()
    worker = network.start_worker(bob, executor=docker_executor)

    job = await submit_shell_job(alice, tmp_path / "greet", tasks=2)
    job = await wait_for_job(alice, job.job_id, timeout=120)
    assert job.state == common_pb2.JOB_STATE_DONE, job

    await download_results(alice, job.job_id, tmp_path / "results")
    greetings = sorted(
        (folder / "greeting.txt").read_text() for folder in (tmp_path / "results").iterdir()
    )
    assert greetings == ["hello from task 0\n", "hello from task 1\n"]
    # Docker now holds exactly the approved image; the archive is not kept twice.
    assert docker_client.images.get(tiny_image.image_id).id == tiny_image.image_id
    cache = bob.settings.cache_dir
    assert list((cache / "runtimes").glob("*.tar")) == []
    assert json.loads((cache / "runtimes.json").read_text()) == {RUNTIME: tiny_image.image_id}
    # The worker reports the runtime as held, so the scheduler prefers it from now on.
    assert RUNTIME in docker_executor.runtimes()

    async def server_knows() -> bool:
        node_runtimes = await server.ctx.db.run(
            lambda conn: conn.execute(
                select(nodes.c.runtimes_json).where(nodes.c.id == worker.node_id)
            ).scalar()
        )
        return RUNTIME in json.loads(node_runtimes or "[]")

    await wait_until(server_knows, timeout=10, what="the node to report the runtime")


async def test_an_archive_holding_another_image_is_not_loaded(
    server, network, docker_executor, docker_client, tiny_image, tmp_path
):
    """The lease names the approved image id; an archive with anything else is refused
    before `docker load` (here a lease that names another id than the archive holds)."""
    import docker.errors

    admin_json(
        server.settings.data_dir, "runtime", "add", RUNTIME, "--image-archive", str(tiny_image.path)
    )
    bob = await network.person(server.address, "bob")
    reply = await bob.session.nodes.RegisterNode(
        node_pb2.RegisterNodeRequest(name="box", executors=["docker"])
    )
    node = bob.session.as_node(reply.node_id, reply.node_secret)
    provisioner = RuntimeProvisioner(docker_executor, tmp_path / "cache")
    other_id = fake_saved_image(tmp_path / "other.tar").image_id
    lease = node_pb2.TaskLease(
        runtime=RUNTIME,
        runtime_image=other_id,
        runtime_archive_digest=tiny_image.digest,
    )

    with pytest.raises(RuntimeUnavailable) as refused:
        await provisioner.ensure(lease, node.artifacts)

    assert str(refused.value) == (
        f"the runtime archive holds image {tiny_image.image_id}, not the approved {other_id};"
        " nothing loaded"
    )
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tiny_image.image_id)
    assert RUNTIME not in docker_executor.runtime_images
    # An image the server offers no archive of cannot be had either; the error says so.
    missing = node_pb2.TaskLease(runtime="nowhere", runtime_image="hivemind-test/absent:1")
    with pytest.raises(RuntimeUnavailable, match="the server offers no archive of it"):
        await provisioner.ensure(missing, node.artifacts)
