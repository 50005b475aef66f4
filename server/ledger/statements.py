"""What a user reads about their CPT: balance and escrow, history, earnings.

Every function takes an open connection (see Database.run) and only reads.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, and_, func, select

from server.errors import InvalidArgument
from server.ledger import journal as ledger
from server.ledger.starter import CPT, STARTER, starter_balance
from server.store.schema import (
    accounts,
    attempts,
    clawbacks,
    jobs,
    ledger_entries,
    ledger_transactions,
    payouts,
    tasks,
    users,
)

SECONDS_PER_DAY = 86_400
MAX_EARNINGS_DAYS = 366
MAX_PAYOUTS_SHOWN = 200


@dataclass(frozen=True)
class BalanceView:
    balance_ucpt: int  # CPT
    escrow_ucpt: int  # held for the user's unfinished jobs (from either balance)
    starter_ucpt: int = 0  # starter credit (server/ledger/starter.py)
    starter_escrow_ucpt: int = 0  # of escrow_ucpt, held from starter credit


def user_escrow_ucpt(conn: Connection, user_id: str) -> tuple[int, int]:
    """What the escrow accounts of the user's jobs hold (ended jobs hold nothing): in all,
    and from starter credit."""
    rows = conn.execute(
        select(jobs.c.starter_funded, func.coalesce(func.sum(accounts.c.balance_ucpt), 0))
        .select_from(accounts.join(jobs, jobs.c.id == accounts.c.job_id))
        .where(accounts.c.kind == "escrow", jobs.c.owner_id == user_id)
        .group_by(jobs.c.starter_funded)
    ).all()
    held = {bool(starter_funded): int(total or 0) for starter_funded, total in rows}
    return sum(held.values()), held.get(True, 0)


def balance_view(conn: Connection, user_id: str) -> BalanceView:
    account_id = ledger.user_account_id(conn, user_id)
    escrow, starter_escrow = user_escrow_ucpt(conn, user_id)
    return BalanceView(
        ledger.balance(conn, account_id),
        escrow,
        starter_balance(conn, user_id),
        starter_escrow,
    )


@dataclass(frozen=True)
class HistoryEntry:
    tx_id: str
    reason: str
    amount_ucpt: int
    balance_after_ucpt: int  # of the balance the entry moved (`account`)
    counterparty: str
    memo: str
    created_at: float
    job_id: str
    attempt_id: str
    account: str = CPT  # CPT or STARTER: which of the user's balances


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: str  # "" when this is the last page


def _account_label(kind: str, username: str | None, job_id: str | None) -> str:
    if kind == "user":
        return username or "unknown user"
    if kind == "starter":
        return f"{username or 'unknown user'}'s starter credit"
    if kind == "escrow":
        return f"job {job_id}"
    return "system"


def _counterparties(conn: Connection, tx_ids: list[str], own_accounts: set[str]) -> dict[str, str]:
    """For each transaction, who was on the other side: the accounts whose entries have
    the opposite sign of ours (several are joined with ', ')."""
    if not tx_ids:
        return {}
    rows = conn.execute(
        select(
            ledger_entries.c.tx_id,
            ledger_entries.c.account_id,
            ledger_entries.c.amount_ucpt,
            accounts.c.kind,
            accounts.c.job_id,
            users.c.username,
        )
        .select_from(
            ledger_entries.join(accounts, accounts.c.id == ledger_entries.c.account_id).outerjoin(
                users, users.c.id == accounts.c.user_id
            )
        )
        .where(ledger_entries.c.tx_id.in_(tx_ids))
        .order_by(ledger_entries.c.id)
    ).all()
    own_sign: dict[str, int] = {}
    for row in rows:
        if row.account_id in own_accounts:
            own_sign[row.tx_id] = own_sign.get(row.tx_id, 0) + row.amount_ucpt
    labels: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.account_id in own_accounts:
            continue
        ours = own_sign.get(row.tx_id, 0)
        if ours == 0 or (row.amount_ucpt > 0) != (ours > 0):
            label = _account_label(row.kind, row.username, row.job_id)
            if label not in labels[row.tx_id]:
                labels[row.tx_id].append(label)
    return {tx: ", ".join(names) for tx, names in labels.items()}


def history(conn: Connection, user_id: str, cursor: str, limit: int) -> HistoryPage:
    """The user's ledger entries, newest first, of both balances (CPT and starter credit;
    each entry says which). `cursor` is what the previous page returned ("" for the first
    page); it is the entry id to continue below."""
    before: int | None = None
    if cursor:
        # isascii: str.isdigit() also accepts digits int() refuses, such as "²".
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
            raise InvalidArgument("invalid page token (use the one the previous page returned)")
        before = int(cursor)
    account_id = ledger.user_account_id(conn, user_id)
    own = {account_id: CPT}
    starter_id = conn.execute(
        select(accounts.c.id).where(accounts.c.name == f"starter:{user_id}")
    ).scalar()
    if starter_id:
        own[starter_id] = STARTER
    query = (
        select(
            ledger_entries.c.id,
            ledger_entries.c.account_id,
            ledger_entries.c.tx_id,
            ledger_entries.c.amount_ucpt,
            ledger_entries.c.balance_after_ucpt,
            ledger_transactions.c.reason,
            ledger_transactions.c.memo,
            ledger_transactions.c.created_at,
            ledger_transactions.c.job_id,
            ledger_transactions.c.attempt_id,
        )
        .select_from(
            ledger_entries.join(
                ledger_transactions, ledger_transactions.c.id == ledger_entries.c.tx_id
            )
        )
        .where(ledger_entries.c.account_id.in_(sorted(own)))
        .order_by(ledger_entries.c.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(ledger_entries.c.id < before)
    rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    others = _counterparties(conn, [r.tx_id for r in rows], set(own))
    entries = [
        HistoryEntry(
            tx_id=r.tx_id,
            reason=r.reason,
            amount_ucpt=int(r.amount_ucpt),
            balance_after_ucpt=int(r.balance_after_ucpt),
            counterparty=others.get(r.tx_id, "system"),
            memo=r.memo or "",
            created_at=float(r.created_at),
            job_id=r.job_id or "",
            attempt_id=r.attempt_id or "",
            account=own[r.account_id],
        )
        for r in rows
    ]
    return HistoryPage(entries, str(rows[-1].id) if more and rows else "")


@dataclass(frozen=True)
class DayEarnings:
    day: str  # YYYY-MM-DD in the view's time zone
    amount_ucpt: int
    payouts: int


@dataclass
class EarningsView:
    days: list[DayEarnings]  # oldest first, zeros included
    # payouts rows (with job_name and task_index, None when unknown), newest first
    payouts: list[Any] = field(default_factory=list)
    today_ucpt: int = 0
    week_ucpt: int = 0
    month_ucpt: int = 0
    time_zone: str = "UTC"  # the zone the days (and "today") are in


def day_zone(name: str) -> tzinfo:
    """The time zone the earnings' days start in: an IANA name ("Asia/Taipei"), UTC for an
    empty name. InvalidArgument for a name that is not one; UTC when this server has no time
    zone database (the view then says it is in UTC)."""
    if not name or name == "UTC":
        return UTC
    if len(name) > 64:
        raise InvalidArgument("time zone name too long")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return UTC
    except ValueError:
        raise InvalidArgument(f"unknown time zone {name!r} (use an IANA name)") from None


def _day_start(now: float, zone: tzinfo = UTC) -> datetime:
    return datetime.fromtimestamp(now, zone).replace(hour=0, minute=0, second=0, microsecond=0)


def _earned(job_id: Any, user_id: str) -> Any:
    """Payouts (or clawbacks) of jobs other than the user's own starter-funded ones: those
    paid the user's nodes back into their starter credit, which is not earning CPT."""
    own_starter_jobs = select(jobs.c.id).where(
        jobs.c.owner_id == user_id, jobs.c.starter_funded.is_(True)
    )
    return job_id.not_in(own_starter_jobs)


def earnings(
    conn: Connection, user_id: str, days: int = 30, now: float | None = None, time_zone: str = ""
) -> EarningsView:
    """Payouts to the user per day for the last `days` days (today included), each day from
    midnight to midnight in `time_zone` (UTC by default), net of what was taken back that day
    for discarded results (clawbacks, so a day can be negative), the totals for today, 7 and
    30 days, and the latest payouts with their job's name and task: CPT earned, so not what
    the user's own starter-funded jobs paid back into their starter credit."""
    if days < 0:
        raise InvalidArgument("days must not be negative")
    days = days or 30
    if days > MAX_EARNINGS_DAYS:
        raise InvalidArgument(f"days must be at most {MAX_EARNINGS_DAYS}")
    zone = day_zone(time_zone)
    now = time.time() if now is None else now
    today = _day_start(now, zone)
    first_day = today - timedelta(days=max(days, 30) - 1)
    rows = conn.execute(
        select(payouts.c.created_at, payouts.c.amount_ucpt).where(
            and_(payouts.c.user_id == user_id, payouts.c.created_at >= first_day.timestamp()),
            _earned(payouts.c.job_id, user_id),
        )
    ).all()
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for created_at, amount in rows:
        key = datetime.fromtimestamp(created_at, zone).strftime("%Y-%m-%d")
        per_day[key][0] += int(amount)
        per_day[key][1] += 1
    taken_back = conn.execute(
        select(clawbacks.c.created_at, clawbacks.c.taken_ucpt).where(
            and_(clawbacks.c.user_id == user_id, clawbacks.c.created_at >= first_day.timestamp()),
            _earned(clawbacks.c.job_id, user_id),
        )
    ).all()
    for created_at, amount in taken_back:
        key = datetime.fromtimestamp(created_at, zone).strftime("%Y-%m-%d")
        per_day[key][0] -= int(amount)

    def total(last_days: int) -> int:
        return sum(
            per_day[(today - timedelta(days=i)).strftime("%Y-%m-%d")][0] for i in range(last_days)
        )

    series = []
    for offset in range(days - 1, -1, -1):
        key = (today - timedelta(days=offset)).strftime("%Y-%m-%d")
        amount, count = per_day.get(key, (0, 0))
        series.append(DayEarnings(key, amount, count))
    latest = conn.execute(
        select(payouts, jobs.c.name.label("job_name"), tasks.c.idx.label("task_index"))
        .select_from(
            payouts.outerjoin(jobs, jobs.c.id == payouts.c.job_id)
            .outerjoin(attempts, attempts.c.id == payouts.c.attempt_id)
            .outerjoin(tasks, tasks.c.id == attempts.c.task_id)
        )
        .where(payouts.c.user_id == user_id, _earned(payouts.c.job_id, user_id))
        .order_by(payouts.c.created_at.desc())
        .limit(MAX_PAYOUTS_SHOWN)
    ).all()
    zone_name = "UTC" if zone is UTC else str(zone.key)
    return EarningsView(series, list(latest), total(1), total(7), total(30), zone_name)
