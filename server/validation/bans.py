"""Banning a node: its credential is refused from then on, its leases are released, and the
results of it that nobody verified are discarded (and what they were paid taken back)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from server.config import ServerSettings
from server.context import ServerContext
from server.errors import InvalidArgument, NotFound
from server.jobs.effects import Effects
from server.ledger.payouts import EscrowTracker
from server.nodes.listing import NodeView, list_nodes
from server.store.schema import nodes
from server.validation.expiry import release_node_leases
from server.validation.quorum import apply_settlement
from server.validation.rounds import advance_rounds
from server.validation.spot_checks import distrust_node_results

MAX_BAN_REASON_CHARS = 500


@dataclass(frozen=True)
class Ban:
    node: NodeView
    effects: Effects  # its leases requeued (or failed at max attempts), its work discarded


def ban_node(
    conn: Connection,
    node_id: str,
    reason: str,
    now: float | None = None,
    settings: ServerSettings | None = None,
) -> Ban:
    """Marks the node banned (its credential is refused from now on) and releases its
    leases so the tasks run elsewhere. Banning twice keeps the first reason. With
    `settings`, its results nobody verified are discarded too (server/validation/spot_checks.py)."""
    reason = (reason or "").strip()
    if len(reason) > MAX_BAN_REASON_CHARS:
        raise InvalidArgument(f"reason too long (at most {MAX_BAN_REASON_CHARS} characters)")
    now = time.time() if now is None else now
    row = conn.execute(select(nodes.c.banned).where(nodes.c.id == node_id)).first()
    if row is None:
        raise NotFound(f"no node {node_id}")
    if not row.banned:
        conn.execute(
            update(nodes)
            .where(nodes.c.id == node_id)
            .values(banned=True, ban_reason=reason or "banned by an admin", online=False)
        )
    effects = Effects()
    release_node_leases(
        conn, node_id, "node banned by an admin", now, effects, settings or ServerSettings()
    )
    if settings is not None:
        _discard_unverified(conn, node_id, settings, now, effects)
    return Ban(list_nodes(conn, node_id)[0], effects)


def _discard_unverified(
    conn: Connection, node_id: str, settings: ServerSettings, now: float, effects: Effects
) -> None:
    reruns = distrust_node_results(
        conn, [node_id], "its node was banned", EscrowTracker(conn, []), settings, now, effects
    )
    if reruns.settlement is not None:
        apply_settlement(conn, reruns.settlement, now)
    for job_id in effects.deltas:  # their watchers hear of it, with a line or without
        effects.touch(job_id)
    advance_rounds(conn, effects, now)
    effects.apply(conn, now)


def unban_node(conn: Connection, node_id: str) -> NodeView:
    """Lifts a ban: the node's credential works again and it leases work once its next
    heartbeat brings it online. What the ban discarded stays discarded."""
    done = conn.execute(
        update(nodes).where(nodes.c.id == node_id).values(banned=False, ban_reason="")
    ).rowcount
    if not done:
        raise NotFound(f"no node {node_id}")
    return list_nodes(conn, node_id)[0]


async def ban_node_now(ctx: ServerContext, node_id: str, reason: str) -> NodeView:
    """Bans in one transaction, then tells watchers of the affected jobs; this server
    refuses the node's credential from its next call (others within their credential
    cache's few seconds; leases are refused at once everywhere)."""
    ban = await ctx.db.run(ban_node, node_id, reason, None, ctx.settings)
    ctx.node_credentials.forget(node_id)
    ban.effects.announce(ctx.events)
    return ban.node


async def unban_node_now(ctx: ServerContext, node_id: str) -> NodeView:
    node = await ctx.db.run(unban_node, node_id)
    ctx.node_credentials.forget(node_id)
    return node
