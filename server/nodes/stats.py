"""The network at a glance, for admins: users, nodes online, jobs and tasks, CPT in circulation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from server.accounts import users
from server.ledger import journal as ledger
from server.ledger.audit import sum_balances
from server.store.schema import accounts, jobs, nodes, tasks


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


def network_stats(conn: Connection) -> NetworkStats:
    return NetworkStats(
        users=users.count_users(conn),
        nodes_online=_count(conn, nodes, nodes.c.online.is_(True), nodes.c.banned.is_(False)),
        jobs_active=_count(conn, jobs, jobs.c.state.in_(("pending", "running"))),
        tasks_pending=_count(conn, tasks, tasks.c.state == "pending"),
        tasks_running=_count(conn, tasks, tasks.c.state.in_(("leased", "running"))),
        total_granted_ucpt=ledger.total_granted(conn),
        total_in_accounts_ucpt=sum_balances(conn, accounts.c.name != ledger.MINT_ACCOUNT),
        escrow_ucpt=sum_balances(conn, accounts.c.kind == "escrow"),
    )
