"""What admins see and change beyond users and grants: nodes, bans, network stats.

Used by AdminService and by `hivemind-server admin ...` (which opens the data dir's
database directly); every function takes an open connection.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, update

from server.accounts import ledger, users
from server.context import ServerContext
from server.errors import InvalidArgument, NotFound
from server.nodepool.expiry import Released, release_node_leases
from server.store.schema import accounts, attempts, jobs, nodes, tasks
from server.store.schema import users as users_table

ACTIVE_ATTEMPT_STATES = ("leased", "running")
MAX_BAN_REASON_CHARS = 500


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
    query = (
        select(nodes, users_table.c.username, func.coalesce(running.c.running, 0).label("n"))
        .select_from(
            nodes.join(users_table, users_table.c.id == nodes.c.owner_id).outerjoin(
                running, running.c.node_id == nodes.c.id
            )
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
            )
        )
    return views


@dataclass(frozen=True)
class Ban:
    node: NodeView
    released: Released  # the leases it held, now requeued (or failed at max attempts)


def ban_node(conn: Connection, node_id: str, reason: str, now: float | None = None) -> Ban:
    """Marks the node banned (its credential is refused from now on) and releases its
    leases so the tasks run elsewhere. Banning twice keeps the first reason."""
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
    released = release_node_leases(conn, node_id, "node banned by an admin", now)
    return Ban(list_nodes(conn, node_id)[0], released)


async def ban_node_now(ctx: ServerContext, node_id: str, reason: str) -> NodeView:
    """Bans in one transaction, then tells watchers of the affected jobs."""
    ban = await ctx.db.run(ban_node, node_id, reason)
    for job_id in ban.released.jobs:
        for line in ban.released.messages.get(job_id, []) or [""]:
            if ctx.events is not None:
                ctx.events.notify(job_id, line)
    return ban.node


@dataclass(frozen=True)
class NetworkStats:
    users: int
    nodes_online: int
    jobs_active: int
    tasks_pending: int
    tasks_running: int
    total_granted_ucpt: int
    total_in_accounts_ucpt: int  # every account but the mint; equals total granted
    escrow_ucpt: int


def _count(conn: Connection, table: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0)


def _sum_balances(conn: Connection, *where: Any) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(accounts.c.balance_ucpt), 0)).where(*where)
    ).scalar()
    return int(total or 0)


def network_stats(conn: Connection) -> NetworkStats:
    return NetworkStats(
        users=users.count_users(conn),
        nodes_online=_count(conn, nodes, nodes.c.online.is_(True), nodes.c.banned.is_(False)),
        jobs_active=_count(conn, jobs, jobs.c.state.in_(("pending", "running"))),
        tasks_pending=_count(conn, tasks, tasks.c.state == "pending"),
        tasks_running=_count(conn, tasks, tasks.c.state.in_(("leased", "running"))),
        total_granted_ucpt=ledger.total_granted(conn),
        total_in_accounts_ucpt=_sum_balances(conn, accounts.c.name != ledger.MINT_ACCOUNT),
        escrow_ucpt=_sum_balances(conn, accounts.c.kind == "escrow"),
    )


@dataclass(frozen=True)
class LedgerReport:
    problems: list[str]
    total_granted_ucpt: int
    total_in_accounts_ucpt: int

    @property
    def ok(self) -> bool:
        return not self.problems and self.total_granted_ucpt == self.total_in_accounts_ucpt


def check_ledger(conn: Connection) -> LedgerReport:
    """ledger.check() plus the global invariant: what was minted is what accounts hold."""
    problems = ledger.check(conn)
    granted = ledger.total_granted(conn)
    held = _sum_balances(conn, accounts.c.name != ledger.MINT_ACCOUNT)
    if granted != held:
        problems.append(f"total granted {granted} ucpt != sum of accounts {held} ucpt")
    return LedgerReport(problems, granted, held)
