"""Simulated nodes for jobs with a compare command (fuzzy outputs), over real gRPC.

An honest node's output is the right value plus a little noise that differs on every run
(as floating point on different machines does), so honest digests never match; a cheat's
value is far off. A node leased a comparison downloads both results from the server (as a
real worker does) and judges them the way the job's compare command would: exit 0 when the
values are within TOLERANCE, 1 when not. The real command running in a sandbox is covered by
tests/worker/test_worker_compare.py and tests/docker/test_docker_compare.py.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from proto.hivemind.v1 import common_pb2, node_pb2
from tests.kit.loopback_networks import Network, stubs_from
from tests.kit.stubs import Node, Stubs, download, register_node, sha256, upload

TOLERANCE = 0.01
COMPARE = ["python3", "compare.py"]


def honest_value(index: int) -> float:
    return index * index + random.uniform(-0.001, 0.001)


def cheat_value(index: int) -> float:
    return index * index + 5.0


def render(index: int, value: float) -> bytes:
    # Nine decimals: two honest runs' noise (2e-3 wide) then collide about once in 2e6 pairs,
    # not once in 2e3, so a test expecting a comparison is not decided by equal digests.
    return f"estimate for {index}: {value:.9f}\n".encode()


def value_of(data: bytes) -> float:
    found = re.search(rb": (-?[0-9.]+)", data)
    if found is None:
        raise ValueError(f"not a result: {data!r}")
    return float(found.group(1))


def close_to_truth(data: bytes, index: int) -> bool:
    return abs(value_of(data) - index * index) < TOLERANCE


@dataclass
class FuzzyNode:
    name: str
    owner: Any  # UserSession
    node: Node
    stubs: Stubs  # this machine's own channel: its calls come from its own address
    value: Any = honest_value  # index -> float
    compare_exit: Any = None  # None: judge honestly; an int: report that exit code
    fail_comparisons: bool = False  # report every comparison as failed
    results: list[str] = field(default_factory=list)
    comparisons: list[str] = field(default_factory=list)  # attempt ids it compared

    @property
    def node_id(self) -> str:
        return self.node.node_id


async def fuzzy_node(
    stubs: Stubs, owner: Any, name: str, network: Network | None = None, **kw: Any
) -> FuzzyNode:
    """A machine of `owner` on `network` (one of its own when None): its calls go through
    its own stubs, from its own address (tests/kit/loopback_networks.py)."""
    own = await stubs_from(stubs, network)
    node = await register_node(own, owner.metadata, name=name)
    return FuzzyNode(name, owner, node, own, **kw)


async def judge(stubs: Stubs, sim: FuzzyNode, lease: node_pb2.TaskLease) -> int:
    """What the compare command would exit with for this comparison lease."""
    cmp = lease.comparison
    a = await download(stubs, sim.node.metadata, cmp.result_a_digest)
    b = await download(stubs, sim.node.metadata, cmp.result_b_digest)
    assert sha256(a) == cmp.result_a_digest and sha256(b) == cmp.result_b_digest
    if sim.compare_exit is not None:
        return sim.compare_exit
    return 0 if abs(value_of(a) - value_of(b)) < TOLERANCE else 1


async def work(stubs: Stubs, sim: FuzzyNode, max_tasks: int = 1) -> int:
    """One round: lease, then run or compare, and report. Returns how many leases. The
    node's calls go through its own stubs, whatever `stubs` is."""
    stubs = sim.stubs
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=8, free_memory_mb=16384, free_disk_mb=100_000, max_tasks=max_tasks
        ),
        metadata=sim.node.metadata,
    )
    stats = node_pb2.AttemptStats(wall_seconds=1.0, cpu_seconds=1.0)
    for lease in reply.leases:
        if lease.HasField("comparison"):
            assert lease.command == COMPARE and not lease.input_digest
            exit_code = await judge(stubs, sim, lease)
            if sim.fail_comparisons:
                acks = await stubs.nodes.FailAttempts(
                    node_pb2.FailAttemptsRequest(
                        failures=[
                            node_pb2.Failure(
                                attempt_id=lease.attempt_id,
                                error="compare.py crashed",
                                exit_code=2,
                                stats=stats,
                            )
                        ]
                    ),
                    metadata=sim.node.metadata,
                )
            else:
                acks = await stubs.nodes.CompleteAttempts(
                    node_pb2.CompleteAttemptsRequest(
                        completions=[
                            node_pb2.Completion(
                                attempt_id=lease.attempt_id, exit_code=exit_code, stats=stats
                            )
                        ]
                    ),
                    metadata=sim.node.metadata,
                )
            assert all(ack.accepted for ack in acks.acks), acks
            sim.comparisons.append(lease.attempt_id)
            continue
        data = render(lease.task_index, sim.value(lease.task_index))
        await upload(stubs, sim.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
        acks = await stubs.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(
                completions=[
                    node_pb2.Completion(
                        attempt_id=lease.attempt_id,
                        result_digest=sha256(data),
                        result_size=len(data),
                        stats=stats,
                    )
                ]
            ),
            metadata=sim.node.metadata,
        )
        assert all(ack.accepted for ack in acks.acks), acks
        sim.results.append(lease.attempt_id)
    return len(reply.leases)
