"""How many accounts one network address may create per hour.

Every new account receives the signup grant, so unlimited registration would let one person
mint CPT by opening accounts and transferring the grants to themselves. A token bucket per
client address (in memory, per server process) caps that: `registrations_per_address_hour`
accounts at once, refilled evenly over the hour. 0 turns the limit off (e.g. behind a proxy
where every client shares one address; then set `signup_grant_ucpt` to 0 instead).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from server.context import ServerContext
from server.errors import ResourceExhausted

MAX_ADDRESSES = 10_000  # the oldest buckets are forgotten beyond this


@dataclass
class _Bucket:
    tokens: float
    updated: float


class SignupLimiter:
    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, address: str, now: float) -> _Bucket:
        bucket = self._buckets.pop(address, None) or _Bucket(float(self.per_hour), now)
        bucket.tokens = min(
            float(self.per_hour), bucket.tokens + (now - bucket.updated) * self.per_hour / 3600
        )
        bucket.updated = now
        if len(self._buckets) >= MAX_ADDRESSES:
            self._buckets.pop(next(iter(self._buckets)))
        self._buckets[address] = bucket  # re-inserted: the dict keeps the oldest first
        return bucket

    def check(self, address: str, now: float | None = None) -> None:
        """ResourceExhausted when `address` has no registration left this hour."""
        if self.per_hour <= 0 or not address:
            return
        now = time.time() if now is None else now
        bucket = self._bucket(address, now)
        if bucket.tokens < 1:
            wait = int((1 - bucket.tokens) * 3600 / self.per_hour) + 1
            raise ResourceExhausted(
                f"too many new accounts from your address; try again in {wait} s"
            )

    def spend(self, address: str, now: float | None = None) -> None:
        """Counts one registration that succeeded."""
        if self.per_hour <= 0 or not address:
            return
        now = time.time() if now is None else now
        self._bucket(address, now).tokens -= 1


def signup_limiter(ctx: ServerContext) -> SignupLimiter:
    limiter = ctx.extras.get("signup_limiter")
    if limiter is None:
        limiter = SignupLimiter(ctx.settings.registrations_per_address_hour)
        ctx.extras["signup_limiter"] = limiter
    return limiter


def client_address(peer: str) -> str:
    """The host part of a gRPC peer string: 'ipv4:1.2.3.4:5678' -> '1.2.3.4',
    'ipv6:[::1]:5678' -> '::1'; '' when unknown (no limit applies then)."""
    scheme, _, rest = (peer or "").partition(":")
    if scheme == "ipv4":
        return rest.rpartition(":")[0]
    if scheme == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return ""
