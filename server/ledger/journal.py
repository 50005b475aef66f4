"""The CPT ledger: double-entry, integer micro-CPT, idempotent.

Every movement is one transaction whose entries sum to zero. An idempotency key names the
movement (for a payout, the attempt id): posting the same key twice moves money once and
returns the first transaction. No account but the system mint may go negative.

All functions take an open SQLAlchemy connection inside a transaction (see Database.run),
so a caller can combine a ledger movement with its own state change atomically.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, insert, select, update

from server.errors import FailedPrecondition, InvalidArgument, NotFound
from server.ids import new_id
from server.store.bulk import execute_many
from server.store.schema import accounts, ledger_entries, ledger_transactions

MINT_ACCOUNT = "system:mint"
FEES_ACCOUNT = "system:fees"
# clawback: a caught node's owner gives back a payout for a result that was then discarded.
REASONS = frozenset({"grant", "escrow", "payout", "refund", "transfer", "fee", "clawback"})


@dataclass(frozen=True)
class Posted:
    tx_id: str
    created: bool  # False when the idempotency key had been used already


SELECT_ACCOUNT_BY_NAME = select(accounts.c.id).where(accounts.c.name == bindparam("b_name"))


def _account_by_name(conn: Connection, name: str) -> str | None:
    return conn.execute(SELECT_ACCOUNT_BY_NAME, {"b_name": name}).scalar()


def _create_account(
    conn: Connection, name: str, kind: str, user_id: str | None = None, job_id: str | None = None
) -> str:
    account_id = new_id("acct")
    conn.execute(
        insert(accounts).values(
            id=account_id,
            name=name,
            kind=kind,
            user_id=user_id,
            job_id=job_id,
            balance_ucpt=0,
            created_at=time.time(),
        )
    )
    return account_id


def mint_account_id(conn: Connection) -> str:
    return _account_by_name(conn, MINT_ACCOUNT) or _create_account(conn, MINT_ACCOUNT, "system")


def fees_account_id(conn: Connection) -> str:
    """Where submission fees go (server/jobs/submit.py): out of circulation, visible."""
    return _account_by_name(conn, FEES_ACCOUNT) or _create_account(conn, FEES_ACCOUNT, "system")


def user_account_id(conn: Connection, user_id: str) -> str:
    name = f"user:{user_id}"
    return _account_by_name(conn, name) or _create_account(conn, name, "user", user_id=user_id)


def starter_account_id(conn: Connection, user_id: str) -> str:
    """The user's starter credit (server/ledger/starter.py): never transferred."""
    name = f"starter:{user_id}"
    return _account_by_name(conn, name) or _create_account(conn, name, "starter", user_id=user_id)


def escrow_account_id(conn: Connection, job_id: str) -> str:
    name = f"escrow:{job_id}"
    return _account_by_name(conn, name) or _create_account(conn, name, "escrow", job_id=job_id)


def balance(conn: Connection, account_id: str) -> int:
    value = conn.execute(
        select(accounts.c.balance_ucpt).where(accounts.c.id == account_id)
    ).scalar()
    if value is None:
        raise NotFound(f"no account {account_id}")
    return int(value)


def post(
    conn: Connection,
    *,
    idempotency_key: str,
    reason: str,
    entries: list[tuple[str, int]],
    memo: str = "",
    job_id: str | None = None,
    attempt_id: str | None = None,
) -> Posted:
    """Posts one balanced transaction. `entries` are (account_id, signed amount)."""
    if reason not in REASONS:
        raise InvalidArgument(f"unknown ledger reason {reason!r}")
    if not idempotency_key:
        raise InvalidArgument("a ledger transaction needs an idempotency key")
    if len(entries) < 2:
        raise InvalidArgument("a transaction needs at least two entries")
    for _, amount in entries:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidArgument("ledger amounts are integer micro-CPT")
    if sum(amount for _, amount in entries) != 0:
        raise InvalidArgument("ledger entries must sum to zero")

    existing = conn.execute(
        select(ledger_transactions.c.id).where(
            ledger_transactions.c.idempotency_key == idempotency_key
        )
    ).scalar()
    if existing:
        return Posted(existing, created=False)

    mint = _account_by_name(conn, MINT_ACCOUNT)
    tx_id = new_id("tx")
    now = time.time()
    conn.execute(
        insert(ledger_transactions).values(
            id=tx_id,
            idempotency_key=idempotency_key,
            reason=reason,
            memo=memo,
            created_at=now,
            job_id=job_id,
            attempt_id=attempt_id,
        )
    )
    rows = []
    # Debits first, so a short balance is found before anything is credited.
    for account_id, amount in sorted(entries, key=lambda e: e[1]):
        if amount < 0 and account_id != mint:
            result = conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id, accounts.c.balance_ucpt >= -amount)
                .values(balance_ucpt=accounts.c.balance_ucpt + amount)
                .returning(accounts.c.balance_ucpt)
            ).first()
            if result is None:
                have = balance(conn, account_id)  # raises NotFound for a missing account
                raise FailedPrecondition(
                    f"insufficient balance: need {-amount} ucpt, have {have} ucpt"
                )
        else:
            result = conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(balance_ucpt=accounts.c.balance_ucpt + amount)
                .returning(accounts.c.balance_ucpt)
            ).first()
            if result is None:
                raise NotFound(f"no account {account_id}")
        rows.append(
            {
                "tx_id": tx_id,
                "account_id": account_id,
                "amount_ucpt": amount,
                "balance_after_ucpt": int(result[0]),
            }
        )
    conn.execute(insert(ledger_entries), rows)
    return Posted(tx_id, created=True)


def grant(
    conn: Connection,
    user_id: str,
    amount: int,
    *,
    idempotency_key: str,
    memo: str = "",
    starter: bool = False,
) -> Posted:
    """Mints `amount` into the user's account, or with `starter` into their starter credit."""
    if amount <= 0:
        raise InvalidArgument("a grant must be a positive amount")
    target = starter_account_id(conn, user_id) if starter else user_account_id(conn, user_id)
    return post(
        conn,
        idempotency_key=idempotency_key,
        reason="grant",
        entries=[(mint_account_id(conn), -amount), (target, amount)],
        memo=memo,
    )


def total_granted(conn: Connection) -> int:
    """What the mint has issued: equals the sum of every other account."""
    mint = _account_by_name(conn, MINT_ACCOUNT)
    return -balance(conn, mint) if mint else 0


def check(conn: Connection) -> list[str]:
    """Finds inconsistencies: cached balances that differ from their entries, unbalanced
    transactions, negative balances. An empty list means the ledger is sound."""
    problems: list[str] = []
    sums = dict(
        conn.execute(
            select(ledger_entries.c.account_id, func.sum(ledger_entries.c.amount_ucpt)).group_by(
                ledger_entries.c.account_id
            )
        ).all()
    )
    for account_id, name, cached in conn.execute(
        select(accounts.c.id, accounts.c.name, accounts.c.balance_ucpt)
    ):
        actual = int(sums.get(account_id, 0) or 0)
        if actual != cached:
            problems.append(f"{name}: cached balance {cached} != entries {actual}")
        if name != MINT_ACCOUNT and cached < 0:
            problems.append(f"{name}: negative balance {cached}")
    unbalanced = conn.execute(
        select(ledger_entries.c.tx_id)
        .group_by(ledger_entries.c.tx_id)
        .having(func.sum(ledger_entries.c.amount_ucpt) != 0)
    ).all()
    problems.extend(f"transaction {tx} does not sum to zero" for (tx,) in unbalanced)
    return problems


@dataclass(frozen=True)
class Movement:
    """One transaction to post with `post_many`; the fields mean what post()'s do."""

    idempotency_key: str
    reason: str
    entries: list[tuple[str, int]]
    memo: str = ""
    job_id: str | None = None
    attempt_id: str | None = None


def _check_movement(movement: Movement) -> None:
    if movement.reason not in REASONS:
        raise InvalidArgument(f"unknown ledger reason {movement.reason!r}")
    if not movement.idempotency_key:
        raise InvalidArgument("a ledger transaction needs an idempotency key")
    if len(movement.entries) < 2:
        raise InvalidArgument("a transaction needs at least two entries")
    for _, amount in movement.entries:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise InvalidArgument("ledger amounts are integer micro-CPT")
    if sum(amount for _, amount in movement.entries) != 0:
        raise InvalidArgument("ledger entries must sum to zero")


INSERT_TRANSACTION = insert(ledger_transactions)
INSERT_ENTRY = insert(ledger_entries)
MOVE_BALANCE = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"))
    .values(balance_ucpt=accounts.c.balance_ucpt + bindparam("b_delta"))
)


USED_KEYS = select(ledger_transactions.c.id, ledger_transactions.c.idempotency_key).where(
    ledger_transactions.c.idempotency_key.in_(bindparam("b_keys", expanding=True))
)
# FOR UPDATE (PostgreSQL): no other writer moves these balances until we commit.
LOCK_BALANCES = (
    select(accounts.c.id, accounts.c.balance_ucpt)
    .where(accounts.c.id.in_(bindparam("b_ids", expanding=True)))
    .with_for_update()
)


def _mint_id(conn: Connection, found: list[str | None]) -> str | None:
    """The mint's account id, read on first need into `found`."""
    if not found:
        found.append(_account_by_name(conn, MINT_ACCOUNT))
    return found[0]


def used_keys(conn: Connection, keys: Iterable[str]) -> dict[str, str]:
    """The transactions already posted under these idempotency keys: key -> transaction."""
    keys = sorted(set(keys))
    used: dict[str, str] = {}
    for start in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
        used.update(
            (key, tx_id)
            for tx_id, key in conn.execute(USED_KEYS, {"b_keys": keys[start : start + 500]})
        )
    return used


def post_many(
    conn: Connection, movements: list[Movement], used: Mapping[str, str] | None = None
) -> list[Posted]:
    """Posts many transactions with a few statements in all (the payout hot path: one
    per completed task). Same rules and results as calling post() for each in order: a
    used key moves nothing and returns the first transaction; a short balance raises
    FailedPrecondition and, as the caller's transaction rolls back, nothing is posted.

    `used`: `used_keys` of (at least) these movements' keys, read earlier in the caller's
    transaction. A key another transaction posts in between fails this one on the key's
    unique constraint, and it runs again (server/store/postgres.py)."""
    for movement in movements:
        _check_movement(movement)
    if used is None:
        existing = used_keys(conn, (m.idempotency_key for m in movements))
    else:
        existing = dict(used)
    account_ids = sorted({a for m in movements for a, _ in m.entries})
    balances = dict(conn.execute(LOCK_BALANCES, {"b_ids": account_ids}).all())
    missing = [a for a in account_ids if a not in balances]
    if missing:
        raise NotFound(f"no account {missing[0]}")
    mint: list[str | None] = []  # looked up once an account would go negative
    start_balances = dict(balances)
    now = time.time()
    results: list[Posted] = []
    tx_rows: list[dict] = []
    entry_rows: list[dict] = []
    for movement in movements:
        if movement.idempotency_key in existing:
            results.append(Posted(existing[movement.idempotency_key], created=False))
            continue
        tx_id = new_id("tx")
        existing[movement.idempotency_key] = tx_id
        tx_rows.append(
            {
                "id": tx_id,
                "idempotency_key": movement.idempotency_key,
                "reason": movement.reason,
                "memo": movement.memo,
                "created_at": now,
                "job_id": movement.job_id,
                "attempt_id": movement.attempt_id,
            }
        )
        for account_id, amount in sorted(movement.entries, key=lambda e: e[1]):
            after = balances[account_id] + amount
            if after < 0 and amount < 0 and account_id != _mint_id(conn, mint):
                raise FailedPrecondition(
                    f"insufficient balance: need {-amount} ucpt, have {balances[account_id]} ucpt"
                )
            balances[account_id] = after
            entry_rows.append(
                {
                    "tx_id": tx_id,
                    "account_id": account_id,
                    "amount_ucpt": amount,
                    "balance_after_ucpt": after,
                }
            )
        results.append(Posted(tx_id, created=True))
    if tx_rows:
        execute_many(conn, INSERT_TRANSACTION, tx_rows)
        execute_many(conn, INSERT_ENTRY, entry_rows)
        changes = [
            {"b_id": a, "b_delta": balances[a] - start_balances[a]}
            for a in account_ids
            if balances[a] != start_balances[a]
        ]
        execute_many(conn, MOVE_BALANCE, changes)
    return results
