"""Simulated workers for jobs with rounds: real gRPC to a real server (lease, upload the
result as a RESULT artifact, complete), computing what a round's task or aggregate would
from what its lease names, so two honest nodes agree to the byte and a test knows the
right model of each round.

A round task's output names its round, its index and the model it started from; an
aggregate's names the model and every output it combined, and writes metrics.json. A node
asked to compare two results (a job with a compare command) finds them equivalent.

Each node is a machine of its own network: its calls go through its own stubs, from its own
loopback address (tests/kit/loopback_networks.py), so the server counts nodes of different
owners as independent, as it does strangers' machines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from tests.kit.loopback_networks import Network, stubs_from
from tests.kit.stubs import Node, Stubs, make_package, make_zip, register_node, sha256, upload

AGGREGATE = ["python3", "aggregate.py"]


def task_output(lease: node_pb2.TaskLease) -> bytes:
    line = f"round {lease.round} task {lease.task_index} from {lease.model_digest or 'nothing'}"
    return make_zip({"update.txt": line.encode()})


def aggregate_output(lease: node_pb2.TaskLease) -> bytes:
    outputs = [f"{o.task_index}:{o.digest}" for o in lease.aggregate.outputs]
    metrics = {"round": lease.round, "results": len(outputs), "loss": 1 / (lease.round + 1)}
    return make_zip(
        {
            "model.txt": f"{lease.model_digest} + {' '.join(outputs)}".encode(),
            "metrics.json": json.dumps(metrics, sort_keys=True).encode(),
        }
    )


def honest_output(lease: node_pb2.TaskLease) -> bytes:
    return aggregate_output(lease) if lease.HasField("aggregate") else task_output(lease)


@dataclass
class RoundNode:
    name: str
    owner: Any  # the owner's UserSession
    node: Node
    stubs: Stubs  # this machine's own channel: its calls come from its own address
    poison_aggregates: bool = False  # returns garbage for every aggregate it runs
    own_bytes: bool = False  # its aggregates differ in bytes (floating point of its CPU)
    silent: bool = False  # takes leases and never reports (a machine that died)
    leases: list[node_pb2.TaskLease] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return self.node.node_id


async def round_node(
    stubs: Stubs, owner: Any, name: str, network: Network | None = None, **kw: Any
) -> RoundNode:
    """A machine of `owner` on `network` (a network of its own when None), registered with
    the server of `stubs`."""
    own = await stubs_from(stubs, network)
    return RoundNode(name, owner, await register_node(own, owner.metadata, name=name), own, **kw)


async def reconnect(sim: RoundNode, stubs: Stubs) -> None:
    """The machine dials the server of `stubs` from now on (from a network of its own)."""
    sim.stubs = await stubs_from(stubs)


async def work(stubs: Stubs, sim: RoundNode, wall_seconds: float = 1.0) -> int:
    """Leases one task and (unless silent) runs, uploads and completes it; how many it ran.
    The node's calls go through its own stubs, whatever `stubs` is."""
    stubs = sim.stubs
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=8, free_memory_mb=16384, free_disk_mb=100_000, max_tasks=1
        ),
        metadata=sim.node.metadata,
    )
    sim.leases += reply.leases
    if sim.silent or not reply.leases:
        return 0
    completions = []
    for lease in reply.leases:
        if lease.HasField("comparison"):
            completions.append(
                node_pb2.Completion(
                    attempt_id=lease.attempt_id,
                    exit_code=0,  # equivalent
                    stats=node_pb2.AttemptStats(wall_seconds=wall_seconds),
                )
            )
            continue
        data = honest_output(lease)
        if sim.poison_aggregates and lease.HasField("aggregate"):
            data = make_zip({"model.txt": b"garbage"})
        elif sim.own_bytes and lease.HasField("aggregate"):
            data = make_zip({"model.txt": f"{sim.name}: {honest_output(lease).hex()}".encode()})
        await upload(stubs, sim.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
        completions.append(
            node_pb2.Completion(
                attempt_id=lease.attempt_id,
                result_digest=sha256(data),
                result_size=len(data),
                stats=node_pb2.AttemptStats(wall_seconds=wall_seconds, cpu_seconds=wall_seconds),
            )
        )
    acks = await stubs.nodes.CompleteAttempts(
        node_pb2.CompleteAttemptsRequest(completions=completions), metadata=sim.node.metadata
    )
    assert all(ack.accepted for ack in acks.acks), acks
    return len(completions)


async def submit_rounds(stubs: Stubs, owner: Any, **overrides: Any) -> job_pb2.Job:
    package = await upload(stubs, owner.metadata, make_package())
    fields: dict[str, Any] = {
        "name": "rounds",
        "runtime": "python-3.11",
        "command": ["python3", "main.py"],
        "package_digest": package.digest,
        "task_count": 2,
        "rounds": 2,
        "aggregate_command": AGGREGATE,
        "resources": common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60),
    }
    fields.update(overrides)
    return await stubs.jobs.SubmitJob(job_pb2.SubmitJobRequest(**fields), metadata=owner.metadata)


async def detail(stubs: Stubs, owner: Any, job_id: str) -> job_pb2.JobDetail:
    return await stubs.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job_id, include_tasks=True), metadata=owner.metadata
    )


ENDED = (common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED, common_pb2.JOB_STATE_CANCELLED)


async def run_until(
    stubs: Stubs,
    owner: Any,
    job_id: str,
    sims: list[RoundNode],
    done: Any = None,
    max_turns: int = 60,
) -> job_pb2.JobDetail:
    """Each node works one task per turn, in order, until `done(detail)` (default: the job
    ended)."""
    wanted = done or (lambda found: found.job.state in ENDED)
    for _ in range(max_turns):
        found = await detail(stubs, owner, job_id)
        if wanted(found):
            return found
        for sim in sims:
            await work(stubs, sim)
    raise AssertionError(f"job {job_id} did not get there in {max_turns} turns: {found}")


def round_state(found: job_pb2.JobDetail, index: int) -> int:
    return found.rounds[index].state if len(found.rounds) > index else 0


def aggregate_leases(sims: list[RoundNode], round_index: int) -> list[tuple[str, Any]]:
    """(node name, lease) of every aggregate lease of the round."""
    return [
        (sim.name, lease)
        for sim in sims
        for lease in sim.leases
        if lease.HasField("aggregate") and lease.round == round_index
    ]
