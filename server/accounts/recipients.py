"""Sending CPT to a user by name, without telling strangers which names exist.

A transfer must say plainly when its recipient does not exist (an honest typo must not pass
for a payment), so its answers would enumerate usernames: "no user named x" against
"insufficient balance" for a huge amount. So the checks run in an order that gives nothing
away for free:

1. the request itself (amount, memo, key) and a transfer to oneself: the same for every name;
2. a reused idempotency key: answered the same way whether or not the new name exists;
3. the sender's balance: a transfer the sender cannot pay is refused before any name is
   looked up, so probing costs the amount probed (and starter credit, which new accounts
   get, cannot be transferred at all);
4. the unknown-name budget: a sender who addressed `transfer_unknown_names_per_hour` names
   without an account in the current hour is refused, for every name they have not paid
   before (paying those tells them nothing new), until the hour is over;
5. only then the name: unknown is NOT_FOUND and counts against the budget; known is paid.

The count lives on the sender's row (`users.transfer_misses`, from `transfer_misses_since`)
and is taken in the transaction that looks the name up, so every server on one database
shares it and concurrent probes cannot overrun it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, case, select, update

from server.context import ServerContext
from server.errors import FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from server.ledger import journal as ledger
from server.ledger import transfers
from server.ledger.transfers import Movement
from server.store.schema import users

WINDOW_S = 3600.0


@dataclass(frozen=True)
class _Outcome:
    """What the transaction decided; an unknown name is raised after the commit, so its
    count against the budget sticks."""

    movement: Movement | None = None
    unknown_name: str = ""


def _find(conn: Connection, username: str) -> str | None:
    return conn.execute(
        select(users.c.id).where(users.c.username_key == (username or "").strip().lower())
    ).scalar()


def _check_budget(conn: Connection, sender_id: str, per_hour: int, now: float) -> None:
    row = conn.execute(
        select(users.c.transfer_misses, users.c.transfer_misses_since).where(
            users.c.id == sender_id
        )
    ).first()
    if row is None or per_hour <= 0:
        return
    open_until = float(row.transfer_misses_since) + WINDOW_S
    if row.transfer_misses >= per_hour and open_until > now:
        wait = max(1, math.ceil(open_until - now))
        raise ResourceExhausted(
            f"too many transfers to unknown usernames this hour; try again in {wait} s"
            " (people you have paid before can still be paid)"
        )


def _count_miss(conn: Connection, sender_id: str, now: float) -> None:
    expired = users.c.transfer_misses_since <= now - WINDOW_S
    conn.execute(
        update(users)
        .where(users.c.id == sender_id)
        .values(
            transfer_misses=case((expired, 1), else_=users.c.transfer_misses + 1),
            transfer_misses_since=case((expired, now), else_=users.c.transfer_misses_since),
        )
    )


def _send(
    conn: Connection,
    sender_id: str,
    to_username: str,
    amount_ucpt: int,
    idempotency_key: str,
    memo: str,
    per_hour: int,
    now: float,
) -> _Outcome:
    transfers.check_request(amount_ucpt, memo, idempotency_key)
    recipient = _find(conn, to_username)
    if recipient == sender_id:
        raise InvalidArgument("cannot transfer to yourself")  # one's own name: no secret
    if transfers.key_used(conn, sender_id, idempotency_key):
        if recipient is None:
            raise FailedPrecondition(transfers.KEY_REUSED)
        return _Outcome(
            transfers.transfer(
                conn, sender_id, recipient, amount_ucpt, idempotency_key=idempotency_key, memo=memo
            )
        )
    have = ledger.balance(conn, ledger.user_account_id(conn, sender_id))
    if have < amount_ucpt:
        raise transfers.insufficient(have, amount_ucpt)
    if recipient is None or not transfers.paid_before(conn, sender_id, recipient):
        _check_budget(conn, sender_id, per_hour, now)
    if recipient is None:
        if per_hour > 0:
            _count_miss(conn, sender_id, now)
        return _Outcome(unknown_name=to_username.strip())
    return _Outcome(
        transfers.transfer(
            conn, sender_id, recipient, amount_ucpt, idempotency_key=idempotency_key, memo=memo
        )
    )


async def send_cpt(
    ctx: ServerContext,
    sender_id: str,
    to_username: str,
    amount_ucpt: int,
    *,
    idempotency_key: str = "",
    memo: str = "",
) -> Movement:
    """Transfers CPT to the user named `to_username` (see the module docstring for what a
    refusal may say). The same idempotency key twice moves the amount once."""
    outcome = await ctx.db.run(
        _send,
        sender_id,
        to_username,
        amount_ucpt,
        idempotency_key,
        memo,
        ctx.settings.transfer_unknown_names_per_hour,
        time.time(),
    )
    if outcome.movement is None:
        raise NotFound(
            f"no user named {outcome.unknown_name!r}: check the spelling; nothing was sent"
        )
    return outcome.movement
