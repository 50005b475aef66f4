"""Simulated worker nodes for the verification tests: nodes that speak real gRPC to a real
server (lease, upload the result as a RESULT artifact, complete), honest or not, and jobs of
squares for them to run.

The tasks' work is a pure function of the task index, so the test knows the right answer:
an honest node returns `correct_output(index)`, a cheat returns something else.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from sqlalchemy import delete, insert, update

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.store.schema import node_trust, nodes
from tests.kit.loopback_networks import Network, stubs_from
from tests.kit.stubs import Node, Stubs, make_package, register_node, sha256, upload

Output = Callable[[int], bytes]


def correct_output(index: int) -> bytes:
    return f"square of {index} is {index * index}\n".encode()


def wrong_output(index: int) -> bytes:
    return f"square of {index} is 42\n".encode()


@dataclass
class SimNode:
    name: str
    owner: Any  # the owner's UserSession
    node: Node
    stubs: Stubs  # this machine's own channel: its calls come from its own address
    output: Output = correct_output
    results: list[str] = field(default_factory=list)  # attempt ids it completed

    @property
    def node_id(self) -> str:
        return self.node.node_id


async def sim_node(
    stubs: Stubs,
    owner: Any,
    name: str,
    output: Output = correct_output,
    network: Network | None = None,
) -> SimNode:
    """A machine of `owner` on `network` (a network of its own when None, as a stranger's
    machine is), registered with the server of `stubs`. Its calls go through its own stubs
    (`sim.stubs`), from its own address (tests/kit/loopback_networks.py)."""
    own = await stubs_from(stubs, network)
    node = await register_node(own, owner.metadata, name=name)
    return SimNode(name, owner, node, own, output)


async def reconnect(sim: SimNode, stubs: Stubs) -> None:
    """The machine dials the server of `stubs` from now on (from a network of its own)."""
    sim.stubs = await stubs_from(stubs)


async def work(stubs: Stubs, sim: SimNode, max_tasks: int = 1, wall_seconds: float = 1.0) -> int:
    """One round: lease up to `max_tasks`, compute, upload, complete. Returns how many.
    The node's calls go through its own stubs, whatever `stubs` is."""
    stubs = sim.stubs
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=8, free_memory_mb=16384, free_disk_mb=100_000, max_tasks=max_tasks
        ),
        metadata=sim.node.metadata,
    )
    completions = []
    for lease in reply.leases:
        data = sim.output(lease.task_index)
        await upload(stubs, sim.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
        completions.append(
            node_pb2.Completion(
                attempt_id=lease.attempt_id,
                result_digest=sha256(data),
                result_size=len(data),
                stats=node_pb2.AttemptStats(wall_seconds=wall_seconds, cpu_seconds=wall_seconds),
            )
        )
    if completions:
        acks = await stubs.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(completions=completions), metadata=sim.node.metadata
        )
        assert all(ack.accepted for ack in acks.acks), acks
        sim.results += [c.attempt_id for c in completions]
    return len(completions)


async def submit_job(stubs: Stubs, owner: Any, **overrides: Any) -> job_pb2.Job:
    package = await upload(stubs, owner.metadata, make_package())
    fields: dict[str, Any] = {
        "name": "squares",
        "runtime": "python-3.11",
        "command": ["python3", "main.py"],
        "package_digest": package.digest,
        "task_count": 4,
        "resources": common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60),
    }
    fields.update(overrides)
    return await stubs.jobs.SubmitJob(job_pb2.SubmitJobRequest(**fields), metadata=owner.metadata)


async def job_detail(stubs: Stubs, owner: Any, job_id: str) -> job_pb2.JobDetail:
    return await stubs.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job_id, include_tasks=True), metadata=owner.metadata
    )


async def run_job(
    stubs: Stubs,
    owner: Any,
    job_id: str,
    sims: list[Any],
    max_rounds: int = 100,
    work_round: Callable[[Stubs, Any], Awaitable[int]] | None = None,
) -> job_pb2.JobDetail:
    """Every node works one round (`work_round`, default `work`: one task), in the given
    order, until the job ends."""
    for _ in range(max_rounds):
        detail = await job_detail(stubs, owner, job_id)
        if detail.job.state in (common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED):
            return detail
        for sim in sims:
            await (work_round or work)(stubs, sim)
    raise AssertionError(f"job {job_id} did not end in {max_rounds} rounds")


class Heartbeats:
    """Keeps simulated machines online as a running worker does (a heartbeat every
    `every_s`); `kill(sim)` stops one's, as if it died: the server marks it offline after
    `node_offline_after_s` and releases its leases."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self._beating: dict[str, asyncio.Task] = {}

    def start(self, *sims: Any) -> None:
        for sim in sims:
            self._beating[sim.node_id] = asyncio.create_task(self._beat(sim))

    async def _beat(self, sim: Any) -> None:
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):  # a beat lost: the next one counts
                await sim.stubs.nodes.Heartbeat(
                    node_pb2.HeartbeatRequest(), metadata=sim.node.metadata
                )
            await asyncio.sleep(self.every_s)

    async def kill(self, sim: Any) -> None:
        task = self._beating.pop(sim.node_id)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        for task in self._beating.values():
            task.cancel()
        await asyncio.gather(*self._beating.values(), return_exceptions=True)
        self._beating.clear()


def establish(server: Any, *sims: Any, valid: int = 30, age_s: float = 4 * 86400) -> None:
    """Makes these nodes established, as if they had worked honestly for days: registered
    `age_s` ago (four days), with `valid` independent valid results (server/nodes/trust.py).
    With a small `age_s`, a young node that claims such a history."""
    now = time.time()

    def change(conn: Any) -> None:
        for sim in sims:
            conn.execute(
                update(nodes).where(nodes.c.id == sim.node_id).values(created_at=now - age_s)
            )
            conn.execute(delete(node_trust).where(node_trust.c.node_id == sim.node_id))
            conn.execute(
                insert(node_trust).values(
                    node_id=sim.node_id,
                    consecutive_valid=valid,
                    valid_results=valid,
                    day_started_at=now,
                    updated_at=now,
                )
            )

    server.ctx.db.transaction_sync(change)


def assert_results_correct(detail: job_pb2.JobDetail) -> None:
    for task in detail.tasks:
        assert task.state == common_pb2.TASK_STATE_DONE, task
        assert task.result_digest == sha256(correct_output(task.index)), task
