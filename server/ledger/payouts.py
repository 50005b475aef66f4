"""Paying nodes for accepted attempts: from the job's escrow to the node owner's account.

Each payout is a ledger transaction keyed `payout:<attempt_id>` plus a `payouts` row keyed
by the attempt id, written in the transaction that accepts the attempt, so an attempt is
paid exactly once or not at all. A payout never exceeds what is left in the escrow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select

from server.ledger import journal as ledger
from server.ledger import starter
from server.ledger.rewards import Reward
from server.store.bulk import execute_many
from server.store.schema import accounts, jobs, payouts

INSERT_PAYOUT = insert(payouts)


@dataclass(frozen=True)
class PayoutOrder:
    attempt_id: str
    job_id: str
    node_id: str
    user_id: str  # the node's owner, who is paid
    escrow_account_id: str
    reward: Reward  # what the work earned
    amount_ucpt: int  # what is paid: the reward, capped by the escrow left


LOCK_ESCROWS = (
    select(accounts.c.id, accounts.c.balance_ucpt)
    .where(accounts.c.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(accounts.c.id)
    .with_for_update()
)
LOCK_JOBS = (
    select(jobs.c.id)
    .where(jobs.c.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(jobs.c.id)
    .with_for_update()
)


@dataclass
class Draw:
    """A draw decided before the escrow was read: what is taken is known once it is."""

    account_id: str
    wanted: int
    taken: int = 0


class EscrowTracker:
    """Escrow balances read once per batch and drawn down as payouts are decided; their rows
    stay locked until the transaction ends (PostgreSQL), so nobody else draws meanwhile.

    With `late_for_jobs` (the jobs whose escrows these are), nothing is read or locked until
    a balance is first needed (`lock`, `left`, `draw`, `credit`): then the jobs' rows and
    the escrows' are locked, in that order, and the draws queued by `draw_later` are taken in
    the order they were asked for, as `draw` would have. Work that does not depend on the
    escrow can so be done before the batch waits for other batches of the same jobs."""

    def __init__(
        self,
        conn: Connection,
        account_ids: Iterable[str],
        late_for_jobs: Iterable[str] | None = None,
    ) -> None:
        self._conn = conn
        self._ids = sorted(set(account_ids))
        self._jobs = sorted(set(late_for_jobs or ()))
        self._left: dict[str, int] = {}
        self._queued: list[Draw] = []
        self._locked = False
        if late_for_jobs is None:
            self.lock()

    def lock(self) -> None:
        """Reads (and on PostgreSQL locks) the batch's jobs and escrows, once, and takes the
        draws queued meanwhile."""
        if self._locked:
            return
        self._locked = True
        if self._jobs and self._conn.dialect.name == "postgresql":
            self._conn.execute(LOCK_JOBS, {"b_ids": self._jobs})
        if self._ids:
            self._left = dict(self._conn.execute(LOCK_ESCROWS, {"b_ids": self._ids}).all())
        for draw in self._queued:
            draw.taken = self._take(draw.account_id, draw.wanted)
        self._queued.clear()

    def left(self, account_id: str) -> int:
        """What the account still holds after the draws decided so far (read on first use
        when the batch did not load it)."""
        self.lock()
        return self._balance(account_id)

    def _balance(self, account_id: str) -> int:
        if account_id not in self._left:
            balance = self._conn.execute(
                select(accounts.c.balance_ucpt).where(accounts.c.id == account_id)
            ).scalar()
            self._left[account_id] = int(balance or 0)
        return self._left[account_id]

    def credit(self, account_id: str, amount: int) -> None:
        """Counts money coming into the account in this batch (a clawback). Call it before
        posting the movement: a first read after posting would count it twice."""
        self.lock()
        self._left[account_id] = self._balance(account_id) + amount

    def draw(self, account_id: str, wanted: int) -> int:
        """Takes up to `wanted` from the account; returns what was taken."""
        self.lock()
        return self._take(account_id, wanted)

    def draw_later(self, account_id: str, wanted: int) -> Draw:
        """`draw`, taken now if the escrows were read, else when they are (`Draw.taken`)."""
        draw = Draw(account_id, wanted)
        if self._locked:
            draw.taken = self._take(account_id, wanted)
        else:
            self._queued.append(draw)
        return draw

    def _take(self, account_id: str, wanted: int) -> int:
        left = self._balance(account_id)
        taken = max(0, min(wanted, left))
        self._left[account_id] = left - taken
        return taken


def payout_key(attempt_id: str) -> str:
    return f"payout:{attempt_id}"


@dataclass(frozen=True)
class PayoutPrep:
    """What paying needs that does not depend on the escrows, read before their locks."""

    payees: dict[tuple[str, str], str]  # (job id, payee id) -> the account credited
    used: dict[str, str]  # payout keys already posted -> their transaction


def prepare(conn: Connection, orders: Iterable[PayoutOrder]) -> PayoutPrep:
    orders = list(orders)
    return PayoutPrep(
        starter.payee_accounts(conn, [(order.job_id, order.user_id) for order in orders]),
        ledger.used_keys(conn, [payout_key(order.attempt_id) for order in orders]),
    )


def pay(
    conn: Connection, orders: list[PayoutOrder], now: float, prep: PayoutPrep | None = None
) -> None:
    """Pays the orders (those of an amount); `prep`: `prepare` of (at least) them, read
    earlier in this transaction."""
    orders = [order for order in orders if order.amount_ucpt > 0]
    if not orders:
        return
    # Ordinary CPT, but a starter-funded job pays its own owner back into starter credit.
    if prep is None:
        prep = prepare(conn, orders)
    credited = prep.payees
    posted = ledger.post_many(
        conn,
        [
            ledger.Movement(
                idempotency_key=payout_key(order.attempt_id),
                reason="payout",
                entries=[
                    (order.escrow_account_id, -order.amount_ucpt),
                    (credited[(order.job_id, order.user_id)], order.amount_ucpt),
                ],
                memo=f"task attempt {order.attempt_id} of job {order.job_id}",
                job_id=order.job_id,
                attempt_id=order.attempt_id,
            )
            for order in orders
        ],
        prep.used,
    )
    rows = []
    for order, tx in zip(orders, posted, strict=True):
        if not tx.created:
            continue  # paid already: the ledger key makes a second payment impossible
        reward = order.reward
        base = min(reward.base_ucpt, order.amount_ucpt)
        rows.append(
            {
                "attempt_id": order.attempt_id,
                "tx_id": tx.tx_id,
                "job_id": order.job_id,
                "node_id": order.node_id,
                "user_id": order.user_id,
                "core_ms": reward.core_ms,
                "base_ucpt": base,
                "bonus_ucpt": order.amount_ucpt - base,
                "amount_ucpt": order.amount_ucpt,
                "performance_bonus_permille": reward.performance_bonus_permille,
                "stability_bonus_permille": reward.stability_bonus_permille,
                "priority_permille": reward.priority_permille,
                "created_at": now,
            }
        )
    execute_many(conn, INSERT_PAYOUT, rows)


def paid_amounts(conn: Connection, attempt_ids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(attempt_ids))
    if not ids:
        return {}
    return dict(
        conn.execute(
            select(payouts.c.attempt_id, payouts.c.amount_ucpt).where(payouts.c.attempt_id.in_(ids))
        ).all()
    )
