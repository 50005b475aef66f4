"""How many accounts one network address may open per hour.

Every new account receives the signup grant, so unlimited registration would let one person
mint CPT by opening accounts and transferring the grants to themselves. So one client address
opens at most `registrations_per_address_hour` accounts in any hour (a sliding window: a
sign-up stops counting an hour after it was made). 0 turns the limit off (e.g. behind a proxy
where every client shares one address; then set `signup_grant_ucpt` to 0 instead).

The sign-ups are counted in the database (table `signups`), in the transaction that creates
the user: every server on one database shares the count, and a restart keeps it. Rows older
than the hour are deleted there too, a bounded batch at a time, so the table holds about one
hour of sign-ups.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from server.accounts.signing import SIGNUP_ADDRESS, SigningKeys
from server.context import ServerContext
from server.errors import ResourceExhausted
from server.store.schema import signups

WINDOW_S = 3600.0
# Expired rows deleted per sign-up. More than the one row a sign-up adds, so a backlog (after
# a quiet spell, or rows left while the limit was off) drains, and never a long transaction.
PRUNE_BATCH = 100


@dataclass(frozen=True)
class SignupAddress:
    """One client address as the sign-up limit sees it. `address_hash` is "" when no limit
    applies (the limit is off, or the address is unknown)."""

    address_hash: str
    per_hour: int

    @property
    def limited(self) -> bool:
        return bool(self.address_hash) and self.per_hour > 0

    def check(self, conn: Connection, now: float | None = None) -> None:
        """ResourceExhausted, saying how long to wait, when the address has used up its hour.
        Read-only: register calls it before hashing the password, so a refused sign-up costs
        no argon2 work; `admit` decides again in the transaction that creates the user."""
        if not self.limited:
            return
        now = time.time() if now is None else now
        since = now - WINDOW_S
        counted = int(
            conn.execute(
                select(func.count())
                .select_from(signups)
                .where(signups.c.address_hash == self.address_hash, signups.c.created_at > since)
            ).scalar()
            or 0
        )
        if counted < self.per_hour:
            return
        # A place frees when the sign-up that puts the count at the cap leaves the window:
        # the oldest one, unless the cap was lowered below what the hour already holds.
        freeing = conn.execute(
            select(signups.c.created_at)
            .where(signups.c.address_hash == self.address_hash, signups.c.created_at > since)
            .order_by(signups.c.created_at)
            .offset(counted - self.per_hour)
            .limit(1)
        ).scalar()
        wait = max(1, math.ceil(float(freeing or now) + WINDOW_S - now))
        raise ResourceExhausted(
            f"too many new accounts from your address; try again in {wait} s",
            reason="TOO_MANY_SIGNUPS",
            retry_after_s=wait,
        )

    def admit(self, conn: Connection, now: float) -> None:
        """In the transaction that creates the user, before it: expired rows are deleted,
        then the address is checked.

        The delete comes first on purpose. On SQLite it is the transaction's first write, so
        it takes the database's write lock before the count is read: two server processes
        on one file cannot both count the same free place (the second waits, then counts the
        first one's sign-up). PostgreSQL runs the transaction SERIALIZABLE and retries the
        one that loses (server/store/postgres.py), so there too only the cap gets in."""
        if not self.limited:
            return
        expired = (
            select(signups.c.id)
            .where(signups.c.created_at <= now - WINDOW_S)
            .order_by(signups.c.created_at)
            .limit(PRUNE_BATCH)
        )
        conn.execute(delete(signups).where(signups.c.id.in_(expired)))
        self.check(conn, now)

    def record(self, conn: Connection, user_id: str, now: float) -> None:
        """Counts the account `user_id` just opened (same transaction as `admit`)."""
        if not self.limited:
            return
        conn.execute(
            insert(signups).values(address_hash=self.address_hash, user_id=user_id, created_at=now)
        )


def signup_address(ctx: ServerContext, address: str) -> SignupAddress:
    """The limit that applies to sign-ups from `address` (see client_address)."""
    per_hour = ctx.settings.registrations_per_address_hour
    if per_hour <= 0 or not address:
        return SignupAddress("", per_hour)
    return SignupAddress(hash_address(ctx.signing_keys, address), per_hour)


def hash_address(keys: SigningKeys, address: str) -> str:
    """What the signups table keeps of an address.

    An address is personal data, and counting only needs to tell addresses apart, so the
    table holds a keyed hash and never the address. A plain SHA-256 would hide nothing: all
    2^32 IPv4 addresses are hashed in minutes. The key comes from token.key, which every
    server sharing a database already shares (docs/ADMIN.md) and which the database never
    holds, so a leaked dump or backup does not tell who signed up from where. A new
    token.key starts the count afresh (at most one more hour's worth of accounts).
    """
    return keys.keyed_hash(SIGNUP_ADDRESS, address)


def client_address(peer: str) -> str:
    """The host part of a gRPC peer string: 'ipv4:1.2.3.4:5678' -> '1.2.3.4',
    'ipv6:[::1]:5678' -> '::1'; '' when unknown (no limit applies then)."""
    scheme, _, rest = (peer or "").partition(":")
    if scheme == "ipv4":
        return rest.rpartition(":")[0]
    if scheme == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return ""
