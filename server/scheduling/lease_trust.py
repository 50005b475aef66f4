"""What verification and trust change in leasing (used by scheduler.py).

- Replicas of a task go to nodes of different owners: a node is not offered a task that a
  node of its owner holds or has delivered a result for (a failed or expired attempt does
  not count: the owner may try again).
- Trust orders the work a node is offered, within one priority: a node still earning trust
  gets replicated jobs first (its results are checked there anyway, and agreeing ones earn
  it trust); a trusted node gets unreplicated jobs first (where trust is what protects the
  submitter). A node on probation holds few leases (trust.LeasePolicy).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Row, exists, select

from server.jobs.models import ATTEMPT_DONE, ATTEMPT_LIVE_STATES
from server.nodes.trust import LeasePolicy
from server.store.schema import attempts, nodes, tasks

HOLDING_STATES = (*ATTEMPT_LIVE_STATES, ATTEMPT_DONE)


def nodes_of_same_owner(conn: Connection, node_id: str) -> list[str]:
    """Every node of this node's owner, this one included."""
    owner = select(nodes.c.owner_id).where(nodes.c.id == node_id).scalar_subquery()
    return sorted(conn.execute(select(nodes.c.id).where(nodes.c.owner_id == owner)).scalars())


def held_by_owner(owner_nodes: Sequence[str], runs_only: bool = False) -> ColumnElement[bool]:
    """True for a task (in a query on `tasks`) that one of these nodes holds or answered.
    A node that compared two of its results counts too (it saw them), unless `runs_only`:
    comparing again is fine, judging its own result is not (validation/comparisons.py)."""
    held = exists().where(
        attempts.c.task_id == tasks.c.id,
        attempts.c.node_id.in_(sorted(owner_nodes)),
        attempts.c.state.in_(HOLDING_STATES),
    )
    return held.where(attempts.c.comparison_id.is_(None)) if runs_only else held


def by_trust(candidates: list[Row], policy: LeasePolicy) -> list[Row]:
    """The candidate jobs, reordered within each priority by what this node's trust makes
    best (stable: age order is kept within each group)."""

    def key(job: Row) -> tuple[int, int]:
        replicated = job.replicas > 1
        first = not replicated if policy.trusted else replicated
        return (-job.priority_permille, 0 if first else 1)

    return sorted(candidates, key=key)
