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
from server.config import ServerSettings
from server.context import ServerContext
from server.errors import InvalidArgument, NotFound
from server.master.job_lifecycle import JobDeltas, apply_deltas, settle_ended_jobs
from server.nodepool.checking import add_deltas, apply_settlement
from server.nodepool.expiry import Released, release_node_leases
from server.nodepool.payouts import EscrowTracker
from server.nodepool.reruns import distrust_node_results
from server.store.schema import accounts, attempts, jobs, node_trust, nodes, tasks
from server.store.schema import users as users_table

ACTIVE_ATTEMPT_STATES = ("leased", "running")
TRUST_COUNTERS = (
    "consecutive_valid",
    "valid_results",
    "invalid_results",
    "errors",
    "expired_leases",
)
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
    # Trust (server/nodepool/trust.py); zero for a node with nothing checked yet.
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


@dataclass(frozen=True)
class Ban:
    node: NodeView
    released: Released  # the leases it held, now requeued (or failed at max attempts)


def ban_node(
    conn: Connection,
    node_id: str,
    reason: str,
    now: float | None = None,
    settings: ServerSettings | None = None,
) -> Ban:
    """Marks the node banned (its credential is refused from now on) and releases its
    leases so the tasks run elsewhere. Banning twice keeps the first reason. With
    `settings`, its results nobody verified are discarded too (server/nodepool/reruns.py)."""
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
    if settings is not None:
        _discard_unverified(conn, node_id, settings, now, released)
    return Ban(list_nodes(conn, node_id)[0], released)


def _discard_unverified(
    conn: Connection, node_id: str, settings: ServerSettings, now: float, released: Released
) -> None:
    deltas = JobDeltas()
    reruns = distrust_node_results(
        conn, [node_id], "its node was banned", EscrowTracker(conn, []), settings, now
    )
    add_deltas(deltas, reruns.deltas)
    if reruns.settlement is not None:
        apply_settlement(conn, reruns.settlement, deltas, now)
    apply_deltas(conn, deltas, now)
    released.ended_jobs += settle_ended_jobs(conn, set(deltas), now)
    released.jobs |= set(deltas)
    for job_id, lines in reruns.messages.items():
        released.messages.setdefault(job_id, []).extend(lines)


async def ban_node_now(ctx: ServerContext, node_id: str, reason: str) -> NodeView:
    """Bans in one transaction, then tells watchers of the affected jobs."""
    ban = await ctx.db.run(ban_node, node_id, reason, None, ctx.settings)
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
