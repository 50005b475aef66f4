"""How many accounts one client network may open per hour.

Every new account receives starter credit, and every account can be a separate owner (the
replicas of a task must come from distinct owners), so unlimited registration would let one
person farm accounts. So one client network opens at most `registrations_per_network_hour`
accounts in any hour (a sliding window: a sign-up stops counting an hour after it was made).
A network, not an address: one home or one cloud machine holds a whole IPv6 /64 or more, and
a handful of IPv4 addresses, so sign-ups are counted per IPv4 /24 and IPv6 /48, the networks
the quorums tell apart too (`network_prefix_v4`, `network_prefix_v6`; common/network.py).
0 turns the limit off (e.g. behind a proxy where every client shares one address; then set
`signup_grant_ucpt` to 0 instead).

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

from common.network import network_of_address
from server.accounts.signing import SIGNUP_NETWORK, SigningKeys
from server.context import ServerContext
from server.errors import ResourceExhausted
from server.store.schema import signups

WINDOW_S = 3600.0
# Expired rows deleted per sign-up. More than the one row a sign-up adds, so a backlog (after
# a quiet spell, or rows left while the limit was off) drains, and never a long transaction.
PRUNE_BATCH = 100


@dataclass(frozen=True)
class SignupAddress:
    """One client address as the sign-up limit sees it: by its network. `address_hash` (of
    the network) is "" when no limit applies (the limit is off, or the address is unknown)."""

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
            f"too many new accounts from your network; try again in {wait} s",
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
    """The limit that applies to sign-ups from `address` (common.network.client_address of
    the call's peer)."""
    settings = ctx.settings
    per_hour = settings.registrations_per_network_hour
    network = network_of_address(address, settings.network_prefix_v4, settings.network_prefix_v6)
    if per_hour <= 0 or not network:
        return SignupAddress("", per_hour)
    return SignupAddress(hash_network(ctx.signing_keys, network), per_hour)


def hash_network(keys: SigningKeys, network: str) -> str:
    """What the signups table keeps of a network ('203.0.113.0/24').

    Where people sign up from is personal data, and counting only needs to tell networks
    apart, so the table holds a keyed hash and never the network. A plain SHA-256 would hide
    nothing: all 2^24 IPv4 /24s are hashed in seconds. The key comes from token.key, which
    every server sharing a database already shares (docs/ADMIN.md) and which the database
    never holds, so a leaked dump or backup does not tell who signed up from where. A new
    token.key starts the count afresh (at most one more hour's worth of accounts).
    """
    return keys.keyed_hash(SIGNUP_NETWORK, network)
