"""Taking back what a caught node was paid for results that are then discarded.

When a node fails a spot check or is banned, its recent unverified results in running jobs are
discarded and their tasks run again (server/validation/spot_checks.py). What each discarded
result was paid is taken back from the node owner's account into the escrow of the job that
paid it (ledger reason "clawback", key `clawback:<attempt_id>`), in the transaction that
discards it: the re-run is funded by the cheat, not by the submitter, and the job's cost
counts only results it keeps.

Never below zero: the owner gives back min(paid, balance), the balance being the owner's own
account only. Money the owner holds in escrow for their own jobs stays there: it pays for work
other nodes do, and taking it would break those jobs. What could not be taken is the
shortfall, recorded beside the amount taken in table `clawbacks`, one row per attempt, so a
second discard path or a replay takes nothing twice. Results of jobs that have ended are not
discarded (the submitter has them), so nothing is taken back for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from server.ledger import journal as ledger
from server.ledger import starter
from server.ledger.payouts import EscrowTracker
from server.store.schema import attempts, clawbacks, jobs, payouts, tasks, users


@dataclass(frozen=True)
class Clawback:
    attempt_id: str
    task_id: str
    job_id: str
    node_id: str
    user_id: str  # the node's owner, who gives the money back
    owner_account_id: str
    escrow_account_id: str  # of the job that paid it, which gets it back
    paid_ucpt: int
    taken_ucpt: int
    memo: str

    @property
    def shortfall_ucpt(self) -> int:
        return self.paid_ucpt - self.taken_ucpt


class ClawbackPlan:
    """What the discarded results of one batch give back, drawn on their owners' balances as
    the batch decides them; nothing moves until `take_back`. Each accepted clawback is
    counted at once in the batch's escrow tracker, so the batch's later funding decisions
    see the money coming back."""

    def __init__(self, conn: Connection, escrow: EscrowTracker) -> None:
        self._conn = conn
        self._escrow = escrow
        self._available: dict[str, int] = {}  # owner account -> what is left to take
        self.accepted: list[Clawback] = []

    def offer(self, attempt_id: str, why: str) -> Clawback | None:
        """What discarding this result would take back; None when it was not paid or was
        taken back already."""
        conn = self._conn
        paid = conn.execute(
            select(
                payouts.c.job_id,
                payouts.c.node_id,
                payouts.c.user_id,
                payouts.c.amount_ucpt,
                jobs.c.escrow_account_id,
                jobs.c.owner_id,
                jobs.c.starter_funded,
                tasks.c.id.label("task_id"),
                tasks.c.idx,
            )
            .join(jobs, jobs.c.id == payouts.c.job_id)
            .join(attempts, attempts.c.id == payouts.c.attempt_id)
            .join(tasks, tasks.c.id == attempts.c.task_id)
            .where(payouts.c.attempt_id == attempt_id)
        ).first()
        if paid is None or paid.amount_ucpt <= 0:
            return None
        if (
            any(c.attempt_id == attempt_id for c in self.accepted)
            or conn.execute(
                select(clawbacks.c.attempt_id).where(clawbacks.c.attempt_id == attempt_id)
            ).first()
        ):
            return None
        # From where the payout went: a starter-funded job's own owner was paid back into
        # their starter credit.
        account = starter.payee_account(
            conn, paid.user_id, paid.owner_id, bool(paid.starter_funded)
        )
        if account not in self._available:
            self._available[account] = ledger.balance(conn, account)
        return Clawback(
            attempt_id=attempt_id,
            task_id=paid.task_id,
            job_id=paid.job_id,
            node_id=paid.node_id,
            user_id=paid.user_id,
            owner_account_id=account,
            escrow_account_id=paid.escrow_account_id,
            paid_ucpt=int(paid.amount_ucpt),
            taken_ucpt=min(int(paid.amount_ucpt), self._available[account]),
            memo=f"result of task {paid.idx} of job {paid.job_id} discarded: {why}",
        )

    def accept(self, clawback: Clawback) -> None:
        self._available[clawback.owner_account_id] -= clawback.taken_ucpt
        self._escrow.credit(clawback.escrow_account_id, clawback.taken_ucpt)
        self.accepted.append(clawback)

    def take(self, attempt_id: str, why: str) -> None:
        """Offers and accepts at once: the result is discarded whatever it gives back."""
        clawback = self.offer(attempt_id, why)
        if clawback is not None:
            self.accept(clawback)


def take_back(conn: Connection, plan: ClawbackPlan, now: float) -> dict[str, int]:
    """Moves what the plan accepted from the owners to the jobs' escrows, records every
    clawback (with its shortfall) and lowers the tasks' cost; returns what each job's escrow
    got back (the job's cost goes down by as much)."""
    returned: dict[str, int] = {}
    if not plan.accepted:
        return returned
    moving = [c for c in plan.accepted if c.taken_ucpt > 0]
    posted = ledger.post_many(
        conn,
        [
            ledger.Movement(
                idempotency_key=f"clawback:{c.attempt_id}",
                reason="clawback",
                entries=[(c.owner_account_id, -c.taken_ucpt), (c.escrow_account_id, c.taken_ucpt)],
                memo=c.memo,
                job_id=c.job_id,
                attempt_id=c.attempt_id,
            )
            for c in moving
        ],
    )
    tx_ids = {c.attempt_id: tx.tx_id for c, tx in zip(moving, posted, strict=True) if tx.created}
    recorded = [c for c in plan.accepted if c.taken_ucpt == 0 or c.attempt_id in tx_ids]
    if not recorded:
        return returned
    conn.execute(
        insert(clawbacks),
        [
            {
                "attempt_id": c.attempt_id,
                "tx_id": tx_ids.get(c.attempt_id),
                "job_id": c.job_id,
                "node_id": c.node_id,
                "user_id": c.user_id,
                "paid_ucpt": c.paid_ucpt,
                "taken_ucpt": c.taken_ucpt,
                "shortfall_ucpt": c.shortfall_ucpt,
                "memo": c.memo,
                "created_at": now,
            }
            for c in recorded
        ],
    )
    taken = [c for c in recorded if c.taken_ucpt > 0]
    if taken:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(cost_ucpt=tasks.c.cost_ucpt - bindparam("b_taken"), updated_at=now),
            [{"b_id": c.task_id, "b_taken": c.taken_ucpt} for c in taken],
        )
    for c in taken:
        returned[c.job_id] = returned.get(c.job_id, 0) + c.taken_ucpt
    return returned


@dataclass(frozen=True)
class Shortfall:
    """A clawback that could not take back all a discarded result was paid."""

    attempt_id: str
    job_id: str
    node_id: str
    username: str  # the node's owner, who kept the difference
    paid_ucpt: int
    taken_ucpt: int
    shortfall_ucpt: int
    memo: str
    created_at: float


MAX_SHORTFALLS_LISTED = 1000


def list_shortfalls(conn: Connection, limit: int = MAX_SHORTFALLS_LISTED) -> list[Shortfall]:
    """Clawbacks with a shortfall, newest first (an admin decides what to do about each:
    nothing is owed automatically, since the ledger never goes below zero)."""
    rows = conn.execute(
        select(clawbacks, users.c.username)
        .join(users, users.c.id == clawbacks.c.user_id)
        .where(clawbacks.c.shortfall_ucpt > 0)
        .order_by(clawbacks.c.created_at.desc(), clawbacks.c.attempt_id)
        .limit(max(1, min(limit, MAX_SHORTFALLS_LISTED)))
    ).all()
    return [
        Shortfall(
            attempt_id=row.attempt_id,
            job_id=row.job_id,
            node_id=row.node_id,
            username=row.username,
            paid_ucpt=int(row.paid_ucpt),
            taken_ucpt=int(row.taken_ucpt),
            shortfall_ucpt=int(row.shortfall_ucpt),
            memo=row.memo or "",
            created_at=float(row.created_at),
        )
        for row in rows
    ]
