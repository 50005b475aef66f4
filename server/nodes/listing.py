"""Nodes as an admin lists them: owner, state, hardware, held attempts and trust counters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from server.store.schema import attempts, node_trust, nodes
from server.store.schema import users as users_table

ACTIVE_ATTEMPT_STATES = ("leased", "running")
TRUST_COUNTERS = (
    "consecutive_valid",
    "valid_results",
    "invalid_results",
    "errors",
    "expired_leases",
)


def node_state(*, online: bool, paused: bool, banned: bool, running: int) -> str:
    """One word for what a node is doing: banned, offline, paused, busy or idle."""
    if banned:
        return "banned"
    if not online:
        return "offline"
    if paused:
        return "paused"
    return "busy" if running else "idle"


@dataclass(frozen=True)
class NodeView:
    node_id: str
    name: str
    owner: str
    online: bool
    banned: bool
    ban_reason: str
    last_seen: float
    running: int
    cores: int
    memory_mb: int
    benchmark_score: float
    runtimes: list[str] = field(default_factory=list)
    # Trust (server/nodes/trust.py); zero for a node with nothing checked yet.
    consecutive_valid: int = 0
    valid_results: int = 0
    invalid_results: int = 0
    errors: int = 0
    expired_leases: int = 0
    # An open network (docs/SECURITY.md): where its calls come from, its lease quota (0 = the
    # initial one), and while quarantined, until when and why.
    network: str = ""
    lease_quota: int = 0
    quarantined_until: float = 0.0
    quarantine_reason: str = ""
    paused: bool = False  # by its owner's policy (battery, schedule, in use)

    @property
    def state(self) -> str:
        return node_state(
            online=self.online, paused=self.paused, banned=self.banned, running=self.running
        )

    @property
    def error_rate(self) -> float:
        """The share of this node's checked outcomes that went wrong (a wrong result, an
        error, an expired lease); 0 for a node with nothing checked yet."""
        bad = self.invalid_results + self.errors + self.expired_leases
        total = bad + self.valid_results
        return bad / total if total else 0.0


def _json(text: str | None, default: Any) -> Any:
    try:
        value = json.loads(text or "")
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def list_nodes(
    conn: Connection, node_id: str | None = None, owner_id: str | None = None
) -> list[NodeView]:
    """Every node (by owner, then name), or one node, or one owner's nodes."""
    running = (
        select(attempts.c.node_id, func.count().label("running"))
        .where(attempts.c.state.in_(ACTIVE_ATTEMPT_STATES))
        .group_by(attempts.c.node_id)
        .subquery()
    )
    trust = [func.coalesce(node_trust.c[name], 0).label(f"trust_{name}") for name in TRUST_COUNTERS]
    standing = [
        func.coalesce(node_trust.c.lease_quota, 0).label("lease_quota"),
        func.coalesce(node_trust.c.quarantined_until, 0.0).label("quarantined_until"),
        func.coalesce(node_trust.c.quarantine_reason, "").label("quarantine_reason"),
    ]
    query = (
        select(
            nodes,
            users_table.c.username,
            func.coalesce(running.c.running, 0).label("n"),
            *trust,
            *standing,
        )
        .select_from(
            nodes.join(users_table, users_table.c.id == nodes.c.owner_id)
            .outerjoin(running, running.c.node_id == nodes.c.id)
            .outerjoin(node_trust, node_trust.c.node_id == nodes.c.id)
        )
        .order_by(users_table.c.username_key, nodes.c.name)
    )
    if node_id is not None:
        query = query.where(nodes.c.id == node_id)
    if owner_id is not None:
        query = query.where(nodes.c.owner_id == owner_id)
    views = []
    for row in conn.execute(query):
        hardware = _json(row.hardware_json, {})
        views.append(
            NodeView(
                node_id=row.id,
                name=row.name,
                owner=row.username,
                online=bool(row.online),
                banned=bool(row.banned),
                ban_reason=row.ban_reason or "",
                last_seen=float(row.last_seen),
                running=int(row.n),
                cores=int(hardware.get("cores", 0) or 0),
                memory_mb=int(hardware.get("memory_mb", 0) or 0),
                benchmark_score=float(row.benchmark_score or 0.0),
                runtimes=[str(r) for r in _json(row.runtimes_json, [])],
                paused=bool(row.paused),
                **{name: int(getattr(row, f"trust_{name}")) for name in TRUST_COUNTERS},
                network=row.network or "",
                lease_quota=int(row.lease_quota),
                quarantined_until=float(row.quarantined_until),
                quarantine_reason=row.quarantine_reason or "",
            )
        )
    return views
