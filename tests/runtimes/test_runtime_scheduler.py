"""The scheduler prefers nodes that hold a job's runtime; a Docker node lacking it may still
lease it (it will fetch the archive) when nothing it holds fits; a node that cannot fetch
never gets it. Real node RPCs against a real server; runtimes added with the admin CLI."""

from __future__ import annotations

import pytest

from proto.hivemind.v1 import node_pb2
from server.runtimes.approved import default_runtime
from tests.kit.admin import admin_json
from tests.kit.stubs import Node, Stubs, make_package, submit, upload
from tests.runtimes.runtimekit import SavedImage, fake_saved_image

RUNTIME = "tiny-1"


@pytest.fixture
def archive_runtime(server, tmp_path) -> SavedImage:
    saved = fake_saved_image(tmp_path / "tiny.tar", tag="hivemind-test/tiny:1")
    admin_json(
        server.settings.data_dir, "runtime", "add", RUNTIME, "--image-archive", str(saved.path)
    )
    return saved


async def node_of(
    stubs: Stubs, metadata, runtimes: tuple[str, ...], executors: tuple[str, ...] = ("docker",)
) -> Node:
    reply = await stubs.nodes.RegisterNode(
        node_pb2.RegisterNodeRequest(
            name="box",
            hardware=node_pb2.Hardware(cores=8, memory_mb=16384, disk_mb=100_000),
            runtimes=list(runtimes),
            executors=list(executors),
        ),
        metadata=metadata,
    )
    return Node(reply.node_id, (("authorization", f"Node {reply.node_id}.{reply.node_secret}"),))


async def job(stubs: Stubs, metadata, runtime: str, tasks: int = 1, **overrides):
    info = await upload(stubs, metadata, make_package())
    return await submit(
        stubs, metadata, info.digest, runtime=runtime, task_count=tasks, **overrides
    )


async def lease(stubs: Stubs, node: Node, max_tasks: int, runtimes: tuple[str, ...] = ()) -> list:
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=8, free_memory_mb=16384, max_tasks=max_tasks, runtimes=list(runtimes)
        ),
        metadata=node.metadata,
    )
    return list(reply.leases)


async def test_a_node_holding_the_runtime_gets_its_jobs_first(
    server, user_session, stubs, archive_runtime
):
    alice = await user_session(server, "alice")
    # Older and more urgent, but of a runtime this node lacks.
    await job(stubs, alice.metadata, "python-3.11", tasks=3, priority=3.0)
    tiny = await job(stubs, alice.metadata, RUNTIME, tasks=1)
    holder = await node_of(stubs, alice.metadata, runtimes=(RUNTIME,))

    [first] = await lease(stubs, holder, max_tasks=1)
    assert (first.job_id, first.runtime) == (tiny.job_id, RUNTIME)
    # The lease names the image by its id, and where to fetch it from.
    assert first.runtime_image == archive_runtime.image_id
    assert first.runtime_archive_digest == archive_runtime.digest


async def test_a_node_lacking_the_runtime_fills_up_with_it_after_what_it_holds(
    server, user_session, stubs, archive_runtime
):
    alice = await user_session(server, "alice")
    tiny = await job(stubs, alice.metadata, RUNTIME, tasks=3, priority=3.0)
    python = await job(stubs, alice.metadata, "python-3.11", tasks=1)
    node = await node_of(stubs, alice.metadata, runtimes=("python-3.11",))

    leases = await lease(stubs, node, max_tasks=3)
    assert [item.job_id for item in leases] == [python.job_id, tiny.job_id, tiny.job_id]
    # No archive: the image id where the default runtime could be pinned, else the tag.
    default = await server.ctx.db.run(default_runtime)
    assert leases[0].runtime_image == (default.image_id or "hivemind/python:3.11")
    assert leases[0].runtime_archive_digest == ""
    assert {item.runtime_archive_digest for item in leases[1:]} == {archive_runtime.digest}


async def test_a_node_that_cannot_fetch_gets_only_what_it_holds(
    server, user_session, stubs, archive_runtime
):
    alice = await user_session(server, "alice")
    await job(stubs, alice.metadata, RUNTIME, tasks=2)
    python = await job(stubs, alice.metadata, "python-3.11", tasks=1)
    # The process executor runs tasks on the host: it cannot fetch an image.
    process_node = await node_of(
        stubs, alice.metadata, runtimes=("python-3.11",), executors=("process",)
    )
    leases = await lease(stubs, process_node, max_tasks=5)
    assert [item.job_id for item in leases] == [python.job_id]
    assert await lease(stubs, process_node, max_tasks=5) == []

    # python-3.11 has no archive here: a Docker node without it is not offered its jobs,
    # and the runtime it reports in LeaseTasks (not at registration) counts.
    await job(stubs, alice.metadata, "python-3.11", tasks=1)
    docker_node = await node_of(stubs, alice.metadata, runtimes=())
    leases = await lease(stubs, docker_node, max_tasks=5)
    assert {item.runtime for item in leases} == {RUNTIME} and len(leases) == 2
    leases = await lease(stubs, docker_node, max_tasks=5, runtimes=("python-3.11",))
    assert [item.runtime for item in leases] == ["python-3.11"]


async def test_a_runtime_added_later_reaches_the_next_lease(server, user_session, stubs, tmp_path):
    alice = await user_session(server, "alice")
    saved = fake_saved_image(tmp_path / "v1.tar")
    data_dir = server.settings.data_dir
    admin_json(data_dir, "runtime", "add", RUNTIME, "--image-archive", str(saved.path))
    await job(stubs, alice.metadata, RUNTIME, tasks=2)
    node = await node_of(stubs, alice.metadata, runtimes=(RUNTIME,))
    [before] = await lease(stubs, node, max_tasks=1)
    assert before.runtime_image == saved.image_id

    # The admin re-pins the runtime: the next lease names the new image, which the node
    # (holding the old one under the same name) will fetch.
    newer = fake_saved_image(tmp_path / "v2.tar")
    admin_json(data_dir, "runtime", "add", RUNTIME, "--image-archive", str(newer.path))
    [after] = await lease(stubs, node, max_tasks=1)
    assert (after.runtime_image, after.runtime_archive_digest) == (newer.image_id, newer.digest)
