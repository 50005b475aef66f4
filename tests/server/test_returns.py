"""A node hands attempts back when its contributor stops sharing: the task goes back to the
queue at once, and the return is no failure (it does not use up max_attempts). Real server,
real gRPC."""

from __future__ import annotations

from proto.hivemind.v1 import common_pb2, node_pb2
from tests.kit.stubs import (
    complete,
    get_job,
    lease,
    make_package,
    register_node,
    submit,
    upload,
)


async def _return(stubs, node, attempt_id: str) -> node_pb2.AttemptAck:
    reply = await stubs.nodes.ReturnAttempts(
        node_pb2.ReturnAttemptsRequest(attempt_ids=[attempt_id], reason="sharing turned off"),
        metadata=node.metadata,
    )
    [ack] = reply.acks
    return ack


async def test_returned_attempts_go_back_to_the_queue_and_fail_nothing(server, user_session, stubs):
    _, alice = await user_session(server, "alice")
    _, bob = await user_session(server, "bob")
    _, carol = await user_session(server, "carol")
    digest = (await upload(stubs, alice, make_package())).digest
    # One attempt allowed: a single failure would fail the task.
    job = await submit(stubs, alice, digest, max_attempts=1)
    quitter = await register_node(stubs, bob, "quitter")
    other = await register_node(stubs, carol, "other")

    for _ in range(2):
        [leased] = await lease(stubs, quitter)
        ack = await _return(stubs, quitter, leased.attempt_id)
        assert ack.accepted, ack.error
        detail = await get_job(stubs, alice, job.job_id, tasks=True)
        assert detail.tasks[0].state == common_pb2.TASK_STATE_PENDING
        assert detail.job.tasks_failed == 0
    # A retry after a lost answer changes nothing; another node's attempt is not its to return.
    assert (await _return(stubs, quitter, leased.attempt_id)).accepted
    [taken] = await lease(stubs, other)
    refused = await _return(stubs, quitter, taken.attempt_id)
    assert not refused.accepted and "another node" in refused.error

    [done] = await complete(stubs, other, [taken.attempt_id], wall_seconds=1.0)
    assert done.accepted
    detail = await get_job(stubs, alice, job.job_id, tasks=True)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.tasks[0].node_id == other.node_id
