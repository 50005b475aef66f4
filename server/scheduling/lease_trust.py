"""What verification and trust change in leasing (used by scheduler.py and compare_leases.py).

- Replicas of a task go to independent nodes (validation/independence.py): a node is not
  offered a task that a node of its owner, or (when networks count) a node on its network,
  holds or has delivered a result for. A failed or expired attempt does not count: the
  owner may try again on another machine.
- A node is never offered again a task it failed: the same failure costs the job nothing
  twice.
- Replica slots kept for established nodes go to established nodes only.
- Trust orders the work a node is offered, within one priority: a node still earning trust
  gets replicated jobs first (its results are checked there anyway, and agreeing ones earn
  it trust); a trusted node gets unreplicated jobs first (where trust is what protects the
  submitter). A node on probation holds few leases; a quarantined one none; every node at
  most its day's lease quota (trust.LeasePolicy).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, literal_column, or_, select

from server.jobs.models import ATTEMPT_DONE, ATTEMPT_FAILED, ATTEMPT_LIVE_STATES
from server.nodes.trust import LeasePolicy
from server.store.schema import attempts, nodes, task_replicas, tasks

HOLDING_STATES = (*ATTEMPT_LIVE_STATES, ATTEMPT_DONE)


@dataclass(frozen=True)
class LeasingNode:
    """The node asking for leases, as independence sees it."""

    node_id: str
    owner_id: str
    network: str
    created_at: float
    distinct_networks: bool = True

    def kin(self) -> Select:
        """Its owner's nodes and (when networks count) the nodes on its network."""
        same = nodes.c.owner_id == self.owner_id
        if self.distinct_networks:
            same = or_(same, nodes.c.network == self.network)
        return select(nodes.c.id).where(same)


def bound_node(distinct_networks: bool) -> LeasingNode:
    """A node whose id, owner and network are the bind parameters :b_node, :b_owner and
    :b_network (`node_params` gives their values): for statements built once."""
    return LeasingNode(
        bindparam("b_node"),  # type: ignore[arg-type]
        bindparam("b_owner"),  # type: ignore[arg-type]
        bindparam("b_network"),  # type: ignore[arg-type]
        0.0,
        distinct_networks,
    )


def node_params(node: LeasingNode) -> dict[str, str]:
    return {"b_node": node.node_id, "b_owner": node.owner_id, "b_network": node.network}


def held_by_kin(node: LeasingNode, runs_only: bool = False) -> ColumnElement[bool]:
    """True for a task (in a query on `tasks`) that a node of this node's owner or network
    holds or answered. A node that compared two of its results counts too (it saw them),
    unless `runs_only`: comparing again is fine, judging its own result is not
    (validation/comparisons.py)."""
    held = select(attempts.c.id).where(
        attempts.c.task_id == tasks.c.id,
        attempts.c.node_id.in_(node.kin()),
        attempts.c.state.in_(HOLDING_STATES),
    )
    if runs_only:
        held = held.where(attempts.c.comparison_id.is_(None))
    return _each_task(held)


def _each_task(attempts_of_task: Select) -> ColumnElement[bool]:
    """EXISTS over the attempts of the task at hand, looked up for each task by its task_id
    index. OFFSET 0 keeps PostgreSQL from turning it into an anti-join: with statistics
    that lag a fast-growing attempts table (a new network's first minutes), it planned that
    as a pass over every attempt of the node's kin for each pending task, and a lease took
    up to half a second instead of a few milliseconds."""
    return attempts_of_task.offset(literal_column("0")).exists()


def open_to(node: LeasingNode, established: bool) -> ColumnElement[bool]:
    """True for a pending task (in a query on `tasks`) this node may lease: not held by its
    kin, not failed by it, and not kept for established nodes unless it is one."""
    failed_here = _each_task(
        select(attempts.c.id).where(
            attempts.c.task_id == tasks.c.id,
            # `|| ''` keeps the node's own attempts out of the index choice: SQLite, which has
            # no statistics, would otherwise walk every attempt the node ever ran (its node_id
            # index) for each pending task, instead of the task's few attempts (task_id's).
            attempts.c.node_id + "" == node.node_id,
            attempts.c.state == ATTEMPT_FAILED,
            attempts.c.comparison_id.is_(None),
        )
    )
    allowed = ~held_by_kin(node) & ~failed_here
    if not established:
        kept = exists().where(
            task_replicas.c.task_id == tasks.c.id, task_replicas.c.needs_established.is_(True)
        )
        allowed = allowed & ~kept
    return allowed


def by_trust(candidates: list[Row], policy: LeasePolicy) -> list[Row]:
    """The candidate jobs, reordered within each priority by what this node's trust makes
    best (stable: age order is kept within each group)."""

    def key(job: Row) -> tuple[int, int]:
        replicated = job.replicas > 1
        first = not replicated if policy.trusted else replicated
        return (-job.priority_permille, 0 if first else 1)

    return sorted(candidates, key=key)
