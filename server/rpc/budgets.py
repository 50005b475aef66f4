"""Per-account request budgets at the edge: one account cannot take the server from others.

Every call is charged to an account: a user's calls to the user, a node's to the node, and
calls without a credential (register, login, refresh) to the client's address. Each account
has a token bucket (`rpc_rate_per_s` tokens a second, up to `rpc_burst`) and a cap on calls
in progress at once (`rpc_max_in_flight`, streams included). A call that finds the bucket
empty is not refused at once: it waits for its token, as if the client had slowed down, when
that is at most `rpc_max_wait_s` away; beyond that, or over the in-progress cap, it gets
RESOURCE_EXHAUSTED saying when to try again. Honest clients never notice; a flood runs at
the account's rate, and its waiting calls are capped too.

The handler then runs with `current_account` set (server/store/db.py): the database serves
the accounts with work waiting in turn, so what one account's calls cost in the database
(a batch of a huge job, a long listing) delays another account by one transaction at most.

Memory is bounded: at most `MAX_ACCOUNTS` buckets (the least recently used leave, full).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from common.bounded import BoundedCache
from server.config import ServerSettings
from server.errors import ResourceExhausted
from server.rpc.errors import status_message
from server.rpc.handlers import Behaviour, rewrap
from server.store.db import current_account

MAX_ACCOUNTS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated_at: float
    in_flight: int = 0


@dataclass(frozen=True)
class BudgetLimits:
    rate_per_s: float
    burst: float
    max_wait_s: float
    max_in_flight: int

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> BudgetLimits:
        return cls(
            rate_per_s=float(settings.rpc_rate_per_s),
            burst=float(max(settings.rpc_burst, 1)),
            max_wait_s=float(settings.rpc_max_wait_s),
            max_in_flight=int(settings.rpc_max_in_flight),
        )


class RequestBudgets:
    """The buckets of every account seen lately. On the event loop only."""

    def __init__(
        self,
        limits: BudgetLimits,
        *,
        max_accounts: int = MAX_ACCOUNTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._buckets: BoundedCache[str, _Bucket] = BoundedCache(max_accounts)

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def enabled(self) -> bool:
        return self.limits.rate_per_s > 0

    def admit(self, account: str) -> float:
        """Charges one call to `account`: how long it must wait first (0 = none), or
        ResourceExhausted. Every admitted call must be followed by `done(account)`."""
        limits = self.limits
        now = self._clock()
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = _Bucket(limits.burst, now)
            self._buckets.put(account, bucket)
        if bucket.in_flight >= limits.max_in_flight:
            raise ResourceExhausted(
                f"too many calls in progress from this account ({bucket.in_flight}); let some"
                " finish first"
            )
        elapsed = max(now - bucket.updated_at, 0.0)
        bucket.tokens = min(limits.burst, bucket.tokens + elapsed * limits.rate_per_s)
        bucket.updated_at = now
        wait = 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / limits.rate_per_s
        if wait > limits.max_wait_s:
            raise ResourceExhausted(
                "too many requests from this account; slow down"
                f" (try again in {wait - limits.max_wait_s:.1f} s)"
            )
        bucket.tokens -= 1  # below zero: the waiting calls' tokens are spoken for
        bucket.in_flight += 1
        return wait

    def track(self, account: str) -> None:
        """Counts a call in progress without charging it (budgets off); `done` ends it."""
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = _Bucket(self.limits.burst, self._clock())
            self._buckets.put(account, bucket)
        bucket.in_flight += 1

    def done(self, account: str) -> None:
        bucket = self._buckets.get(account)
        if bucket is not None and bucket.in_flight > 0:
            bucket.in_flight -= 1

    def in_flight(self, account: str) -> int:
        bucket = self._buckets.get(account)
        return bucket.in_flight if bucket is not None else 0


def account_of(context: Any) -> str:
    """Who a call is charged to: `user:<id>`, `node:<id>`, or `addr:<ip>` without a
    credential."""
    principal = getattr(context, "hivemind_principal", None)
    if principal is not None:
        return f"node:{principal.node_id}" if principal.node_id else f"user:{principal.user_id}"
    peer = context.peer() or ""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return "addr:" + address.rpartition(":")[0].strip("[]")
    return "addr:" + peer


def _budgeted(behaviour: Behaviour, budgets: RequestBudgets) -> Behaviour:
    """The behaviour, charged to the caller's account and run as that account."""

    async def admit(context: Any) -> str:
        account = account_of(context)
        if not budgets.enabled:  # no budgets, but the database still takes accounts in turn
            budgets.track(account)
            return account
        try:
            wait = budgets.admit(account)
        except ResourceExhausted as error:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, status_message(error))
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except BaseException:
                budgets.done(account)
                raise
        return account

    if inspect.isasyncgenfunction(behaviour):

        async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
            account = await admit(context)
            current_account.set(account)  # each call runs in a task of its own
            try:
                async for response in behaviour(request, context):
                    yield response
            finally:
                budgets.done(account)

        return streaming

    async def unary(request: Any, context: Any) -> Any:
        account = await admit(context)
        current_account.set(account)
        try:
            return await behaviour(request, context)
        finally:
            budgets.done(account)

    return unary


class RequestBudgetInterceptor(grpc.aio.ServerInterceptor):
    """Applies the account's budget to every call (see the module docstring). Placed after
    the auth interceptor, so the context it sees carries the caller."""

    def __init__(self, budgets: RequestBudgets) -> None:
        self.budgets = budgets

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return rewrap(handler, lambda behaviour: _budgeted(behaviour, self.budgets))
