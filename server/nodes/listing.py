"""Nodes as an admin lists them: owner, state, hardware, held attempts and trust counters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, func, select

from server.context import ServerContext
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


def _json(text: str | None, default: Any) -> Any:
    try:
        value = json.loads(text or "")
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def list_nodes(conn: Connection, node_id: str | None = None) -> list[NodeView]:
    running = (
        select(attempts.c.node_id, func.count().label("running"))
        .where(attempts.c.state.in_(ACTIVE_ATTEMPT_STATES))
        .group_by(attempts.c.node_id)
        .subquery()
    )
    trust = [func.coalesce(node_trust.c[name], 0).label(f"trust_{name}") for name in TRUST_COUNTERS]
    query = (
        select(
            nodes, users_table.c.username, func.coalesce(running.c.running, 0).label("n"), *trust
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
                **{name: int(getattr(row, f"trust_{name}")) for name in TRUST_COUNTERS},
            )
        )
    return views


async def list_nodes_now(ctx: ServerContext, node_id: str | None = None) -> list[NodeView]:
    """list_nodes with each node's last beat as Redis has it, when that is later than the
    database's (with Redis a beat writes there only: server/nodes/presence.py)."""
    views = await ctx.db.run(list_nodes, node_id)
    if ctx.presence is None or not views:
        return views
    beats = await ctx.presence.last_beats([view.node_id for view in views])
    return [
        replace(view, last_seen=max(view.last_seen, beats.get(view.node_id, 0.0))) for view in views
    ]
