"""User-to-user transfers and admin grants, with idempotency keys scoped to the caller.

Users are named by id here: the ledger knows accounts, not usernames. A caller that has a
name resolves it first with server.accounts.users.find_user, in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select

from common.units import format_ucpt
from server.errors import FailedPrecondition, InvalidArgument
from server.ledger import journal as ledger
from server.store.schema import ledger_entries, ledger_transactions

MAX_MEMO_CHARS = 200
MAX_KEY_CHARS = 120
# One billion CPT: far above any real movement, and small enough that balances summed over
# many movements stay inside the ledger's 64-bit integers.
MAX_AMOUNT_UCPT = 10**15


@dataclass(frozen=True)
class Movement:
    tx_id: str
    balance_ucpt: int  # the caller's (transfer) or the recipient's (grant) balance after
    created: bool  # False when the idempotency key had been used: nothing moved this time


def check_request(amount_ucpt: int, memo: str, idempotency_key: str) -> None:
    """InvalidArgument when the amount, memo or key is out of bounds."""
    if not isinstance(amount_ucpt, int) or amount_ucpt <= 0:
        raise InvalidArgument("amount must be a positive number of micro-CPT")
    if amount_ucpt > MAX_AMOUNT_UCPT:
        raise InvalidArgument(
            f"amount too large: at most {format_ucpt(MAX_AMOUNT_UCPT)} CPT in one movement"
        )
    if len(memo) > MAX_MEMO_CHARS:
        raise InvalidArgument(f"memo too long (at most {MAX_MEMO_CHARS} characters)")
    if len(idempotency_key) > MAX_KEY_CHARS:
        raise InvalidArgument(f"idempotency key too long (at most {MAX_KEY_CHARS} characters)")


def _same_movement(conn: Connection, key: str, entries: list[tuple[str, int]]) -> str | None:
    """The tx id if `key` was used already: for these very entries, or FailedPrecondition."""
    tx_id = conn.execute(
        select(ledger_transactions.c.id).where(ledger_transactions.c.idempotency_key == key)
    ).scalar()
    if tx_id is None:
        return None
    posted = conn.execute(
        select(ledger_entries.c.account_id, ledger_entries.c.amount_ucpt).where(
            ledger_entries.c.tx_id == tx_id
        )
    ).all()
    if sorted((a, int(m)) for a, m in posted) != sorted(entries):
        raise FailedPrecondition(KEY_REUSED)
    return tx_id


def transfer_key(from_user_id: str, idempotency_key: str) -> str:
    """The ledger key of a transfer: scoped per sender, so one user's key never collides
    with another's or the system's."""
    return f"transfer:{from_user_id}:{idempotency_key}"


def key_used(conn: Connection, from_user_id: str, idempotency_key: str) -> bool:
    if not idempotency_key:
        return False
    key = transfer_key(from_user_id, idempotency_key)
    return (
        conn.execute(
            select(ledger_transactions.c.id).where(ledger_transactions.c.idempotency_key == key)
        ).first()
        is not None
    )


def insufficient(have: int, amount_ucpt: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"insufficient balance: the transfer needs {format_ucpt(amount_ucpt)} CPT,"
        f" you have {format_ucpt(have)} CPT"
    )


KEY_REUSED = "this idempotency key was already used for a different amount or recipient"


def paid_before(conn: Connection, from_user_id: str, to_user_id: str) -> bool:
    """Whether the sender has ever transferred to this recipient."""
    source = ledger.user_account_id(conn, from_user_id)
    target = ledger.user_account_id(conn, to_user_id)
    sent, received = ledger_entries.alias("sent"), ledger_entries.alias("received")
    found = conn.execute(
        select(sent.c.tx_id)
        .join(received, received.c.tx_id == sent.c.tx_id)
        .join(ledger_transactions, ledger_transactions.c.id == sent.c.tx_id)
        .where(
            sent.c.account_id == source,
            sent.c.amount_ucpt < 0,
            received.c.account_id == target,
            ledger_transactions.c.reason == "transfer",
        )
        .limit(1)
    ).first()
    return found is not None


def transfer(
    conn: Connection,
    from_user_id: str,
    to_user_id: str,
    amount_ucpt: int,
    *,
    idempotency_key: str = "",
    memo: str = "",
) -> Movement:
    """Moves CPT between two users. The same key twice moves the amount once."""
    check_request(amount_ucpt, memo, idempotency_key)
    if to_user_id == from_user_id:
        raise InvalidArgument("cannot transfer to yourself")
    source = ledger.user_account_id(conn, from_user_id)
    target = ledger.user_account_id(conn, to_user_id)
    entries = [(source, -amount_ucpt), (target, amount_ucpt)]
    key = transfer_key(from_user_id, idempotency_key or secrets.token_hex(16))
    existing = _same_movement(conn, key, entries)
    if existing:
        return Movement(existing, ledger.balance(conn, source), created=False)
    have = ledger.balance(conn, source)
    if have < amount_ucpt:
        raise insufficient(have, amount_ucpt)
    posted = ledger.post(conn, idempotency_key=key, reason="transfer", entries=entries, memo=memo)
    return Movement(posted.tx_id, ledger.balance(conn, source), posted.created)


def admin_grant(
    conn: Connection,
    user_id: str,
    amount_ucpt: int,
    *,
    idempotency_key: str = "",
    memo: str = "",
) -> Movement:
    """Mints CPT into a user's account (admin only; the caller checks the role)."""
    check_request(amount_ucpt, memo, idempotency_key)
    target = ledger.user_account_id(conn, user_id)
    key = f"grant:{idempotency_key or secrets.token_hex(16)}"
    existing = _same_movement(
        conn, key, [(ledger.mint_account_id(conn), -amount_ucpt), (target, amount_ucpt)]
    )
    if existing:
        return Movement(existing, ledger.balance(conn, target), created=False)
    posted = ledger.grant(conn, user_id, amount_ucpt, idempotency_key=key, memo=memo)
    return Movement(posted.tx_id, ledger.balance(conn, target), posted.created)
