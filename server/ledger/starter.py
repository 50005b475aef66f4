"""Starter credit: what a new account gets to try the network, and the only things it pays for.

A fresh network must let a new user run a job without an admin, but free money that can be
moved is a mint: open accounts, collect their grants in one. So the sign-up grant lands in a
separate balance, the user's starter account (`starter:<user id>`, kind "starter", a ledger
account like any other, so the conservation audit covers it), which

- is never transferred, granted on or withdrawn: no movement takes it to a user account;
- pays only for the escrow of its owner's own jobs, and only for a whole job: a job is paid
  from CPT when the CPT balance covers it, otherwise from starter credit when that covers it
  (`escrow_funding`), and remembers which (`jobs.starter_funded`);
- gets back what such a job leaves unspent (`refund_account`) and what it paid the owner's
  own nodes (`payee_account`): paying oneself must not turn starter credit into CPT;
- pays other owners ordinary CPT: contributors earn CPT whoever funded the job.

A job paid from starter credit is leased only to capacity no paid job wants (server/
scheduling/funding.py), so accounts farmed for their starter credit can only use what nobody
pays for. `check_starter_credit` is the audit's proof that nothing else ever moved it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from common.units import format_ucpt
from server.errors import FailedPrecondition
from server.ledger import journal as ledger
from server.store.schema import accounts, jobs, ledger_entries

# What `funded_from` answers (and the EstimateCost reply says) for a job's budget.
CPT, STARTER, SHORT = "cpt", "starter", ""


def starter_balance(conn: Connection, user_id: str) -> int:
    account = conn.execute(
        select(accounts.c.balance_ucpt).where(accounts.c.name == f"starter:{user_id}")
    ).scalar()
    return int(account or 0)


def funded_from(conn: Connection, user_id: str, amount_ucpt: int) -> str:
    """Which balance would hold a budget of `amount_ucpt` now: CPT, STARTER or SHORT."""
    cpt = ledger.balance(conn, ledger.user_account_id(conn, user_id))
    if cpt >= amount_ucpt:
        return CPT
    if starter_balance(conn, user_id) >= amount_ucpt:
        return STARTER
    return SHORT


@dataclass(frozen=True)
class Funding:
    account_id: str  # what the escrow is taken from
    starter: bool


def escrow_funding(conn: Connection, user_id: str, amount_ucpt: int, needs: str = "") -> Funding:
    """Where `amount_ucpt` (a job's budget, with its fee if any) comes from, or
    FailedPrecondition naming both balances. `needs` says what the amount is for ("this job
    needs 5 CPT in escrow and a fee of ..."), by default the escrow alone."""
    source = funded_from(conn, user_id, amount_ucpt)
    if source == CPT:
        return Funding(ledger.user_account_id(conn, user_id), False)
    if source == STARTER:
        return Funding(ledger.starter_account_id(conn, user_id), True)
    cpt = ledger.balance(conn, ledger.user_account_id(conn, user_id))
    starter = starter_balance(conn, user_id)
    also = (
        f" and {format_ucpt(starter)} CPT of starter credit (which pays only for a whole job)"
        if starter
        else ""
    )
    needs = needs or f"this job needs {format_ucpt(amount_ucpt)} CPT in escrow"
    raise FailedPrecondition(
        f"insufficient balance: {needs}, you have {format_ucpt(cpt)} CPT{also}",
        reason="INSUFFICIENT_BALANCE",
        need_ucpt=amount_ucpt,
        have_ucpt=cpt,
        starter_ucpt=starter,
    )


def payee_account(conn: Connection, payee_id: str, owner_id: str, starter_funded: bool) -> str:
    """The account a payout from a job's escrow credits: the payee's CPT, except that a
    starter-funded job paying its own owner's node gives back to their starter credit."""
    if starter_funded and payee_id == owner_id:
        return ledger.starter_account_id(conn, payee_id)
    return ledger.user_account_id(conn, payee_id)


JOB_FUNDING = select(jobs.c.id, jobs.c.owner_id, jobs.c.starter_funded).where(
    jobs.c.id.in_(bindparam("b_ids", expanding=True))
)


def payee_accounts(conn: Connection, payments: Iterable[tuple[str, str]]) -> dict[tuple, str]:
    """payee_account for many (job id, payee id) pairs at once."""
    pairs = sorted(set(payments))
    job_ids = sorted({job_id for job_id, _ in pairs})
    funding = {
        row.id: (row.owner_id, bool(row.starter_funded))
        for row in conn.execute(JOB_FUNDING, {"b_ids": job_ids})
    }
    found = {}
    for job_id, payee_id in pairs:
        owner_id, starter_funded = funding.get(job_id, ("", False))
        found[(job_id, payee_id)] = payee_account(conn, payee_id, owner_id, starter_funded)
    return found


def refund_account(conn: Connection, job_id: str, owner_id: str) -> str:
    """Where a job's unspent escrow goes back to: the balance that paid for it."""
    starter_funded = conn.execute(select(jobs.c.starter_funded).where(jobs.c.id == job_id)).scalar()
    if starter_funded:
        return ledger.starter_account_id(conn, owner_id)
    return ledger.user_account_id(conn, owner_id)


def check_starter_credit(conn: Connection) -> list[str]:
    """Every transaction that touched a starter account moved it only between the mint (the
    grant), that account, and escrows of its owner's own jobs; anything else is a problem."""
    starter_txs = (
        select(ledger_entries.c.tx_id)
        .join(accounts, accounts.c.id == ledger_entries.c.account_id)
        .where(accounts.c.kind == "starter")
    )
    rows = conn.execute(
        select(
            ledger_entries.c.tx_id,
            accounts.c.name,
            accounts.c.kind,
            accounts.c.user_id,
            jobs.c.owner_id.label("job_owner"),
        )
        .join(accounts, accounts.c.id == ledger_entries.c.account_id)
        .outerjoin(jobs, jobs.c.id == accounts.c.job_id)
        .where(ledger_entries.c.tx_id.in_(starter_txs))
        .order_by(ledger_entries.c.tx_id)
    ).all()
    by_tx: dict[str, list] = defaultdict(list)
    for row in rows:
        by_tx[row.tx_id].append(row)
    problems = []
    for tx_id, entries in by_tx.items():
        owners = {e.user_id for e in entries if e.kind == "starter"}
        for e in entries:
            own_escrow = e.kind == "escrow" and e.job_owner in owners
            if len(owners) != 1 or not (e.kind in ("starter", "system") or own_escrow):
                problems.append(f"transaction {tx_id} moved starter credit to or from {e.name}")
    return problems
