"""The network at a glance: users, nodes online, jobs and tasks, CPT in circulation (admins'
GetStats), and the network's whole state for the dashboard and the /metrics gauges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from server.accounts import users
from server.ledger import journal as ledger
from server.ledger.audit import sum_balances
from server.nodes.listing import ACTIVE_ATTEMPT_STATES, node_state
from server.store.schema import accounts, attempts, clawbacks, jobs, nodes, payouts, tasks


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


# What the dashboard's network page and the /metrics gauges show: one read of the whole network.

NODE_STATES = ("busy", "idle", "paused", "offline", "banned")


@dataclass(frozen=True)
class NetworkState:
    """The network now. A node is banned, else offline, else paused, else busy (running an
    attempt) or idle. Capacity offered is the hardware of the nodes that may lease now
    (online, not paused, not banned)."""

    nodes_by_state: dict[str, int]
    cores_offered: int
    memory_mb_offered: int
    gpus_offered: int
    tasks_by_state: dict[str, int]  # pending (the queue), leased, running, done, ...
    jobs_by_state: dict[str, int]
    users: int
    balances_ucpt_by_kind: dict[str, int]  # user, escrow, starter (the mint's: what was granted)
    total_granted_ucpt: int
    payouts: int
    payouts_ucpt: int
    clawback_shortfall_ucpt: int

    @property
    def queue_depth(self) -> int:
        return self.tasks_by_state.get("pending", 0)

    @property
    def tasks_finished(self) -> int:
        """Tasks that reached done or failed, ever: its growth is the network's throughput."""
        return self.tasks_by_state.get("done", 0) + self.tasks_by_state.get("failed", 0)

    @property
    def nodes_online(self) -> int:
        return sum(self.nodes_by_state.get(state, 0) for state in ("busy", "idle", "paused"))


def _grouped(conn: Connection, column: Any) -> dict[str, int]:
    return {
        str(key): int(count)
        for key, count in conn.execute(select(column, func.count()).group_by(column)).all()
    }


def _node_states(conn: Connection) -> tuple[dict[str, int], tuple[int, int, int]]:
    running = (
        select(attempts.c.node_id)
        .where(attempts.c.state.in_(ACTIVE_ATTEMPT_STATES))
        .group_by(attempts.c.node_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            nodes.c.online,
            nodes.c.paused,
            nodes.c.banned,
            nodes.c.hardware_json,
            running.c.node_id.label("busy"),
        ).outerjoin(running, running.c.node_id == nodes.c.id)
    ).all()
    counts = dict.fromkeys(NODE_STATES, 0)
    cores = memory = gpus = 0
    for row in rows:
        state = node_state(
            online=bool(row.online),
            paused=bool(row.paused),
            banned=bool(row.banned),
            running=1 if row.busy else 0,
        )
        if state in ("busy", "idle"):
            try:
                hardware = json.loads(row.hardware_json or "{}")
            except ValueError:
                hardware = {}
            cores += int(hardware.get("cores", 0) or 0)
            memory += int(hardware.get("memory_mb", 0) or 0)
            gpus += int(hardware.get("gpus", 0) or 0)
        counts[state] += 1
    return counts, (cores, memory, gpus)


def network_state(conn: Connection) -> NetworkState:
    node_counts, (cores, memory, gpus) = _node_states(conn)
    balances = _grouped_sums(conn, accounts.c.kind, accounts.c.balance_ucpt)
    paid = conn.execute(
        select(func.count(), func.coalesce(func.sum(payouts.c.amount_ucpt), 0))
    ).one()
    shortfall = conn.execute(select(func.coalesce(func.sum(clawbacks.c.shortfall_ucpt), 0)))
    return NetworkState(
        nodes_by_state=node_counts,
        cores_offered=cores,
        memory_mb_offered=memory,
        gpus_offered=gpus,
        tasks_by_state=_grouped(conn, tasks.c.state),
        jobs_by_state=_grouped(conn, jobs.c.state),
        users=users.count_users(conn),
        balances_ucpt_by_kind={k: v for k, v in balances.items() if k != "system"},
        total_granted_ucpt=ledger.total_granted(conn),
        payouts=int(paid[0]),
        payouts_ucpt=int(paid[1]),
        clawback_shortfall_ucpt=int(shortfall.scalar() or 0),
    )


def _grouped_sums(conn: Connection, column: Any, amount: Any) -> dict[str, int]:
    return {
        str(key): int(total or 0)
        for key, total in conn.execute(select(column, func.sum(amount)).group_by(column)).all()
    }
