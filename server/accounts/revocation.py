"""Revoking a user's credentials at once, on every server that shares the database.

An access token is checked by its signature alone, so without more it would stay good, with
the role it names, for its whole life. So each user has a credential generation
(`users.credential_generation`), every access token carries the generation it was issued
under (claim `gen`; the dashboard's session cookies carry it too), and every call with a
user's token compares it with the user's current state: a token of an older generation, or
of a banned user, is refused; the role that counts is the current one, never the token's.

A role change, a ban and a password change bump the generation in the transaction that makes
the change (`revoke_user_credentials`), which also revokes the user's refresh tokens when the
change means "log in again" (ban, password). After a role change the user's client refreshes
silently and gets a token with the new role.

The current state is read through `UserStates`, a bounded cache (at most `MAX_USERS` users,
each for at most `user_state_cache_s` seconds): a change made through this server is seen at
once (`announce_credentials_changed` drops the entry), one made on another replica or by the
admin CLI as soon as Redis carries the announcement, or without Redis within
`user_state_cache_s`. Admin RPCs read the state from the database every time
(one primary-key read), so a demoted admin loses admin on every replica at once.

`announce_credentials_changed` is the one place where a change is announced.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from server.accounts.tokens import revoke_all_for_user
from server.context import ServerContext
from server.errors import PermissionDenied, Unauthenticated
from server.store.invalidation import USER
from server.store.schema import users

log = logging.getLogger("hivemind.auth")


@dataclass(frozen=True)
class UserState:
    """What a user's credentials are worth now."""

    user_id: str
    username: str
    generation: int
    is_admin: bool
    banned: bool
    ban_reason: str


def load_user_state(conn: Connection, user_id: str) -> UserState | None:
    row = conn.execute(
        select(
            users.c.id,
            users.c.username,
            users.c.credential_generation,
            users.c.is_admin,
            users.c.banned,
            users.c.ban_reason,
        ).where(users.c.id == user_id)
    ).first()
    if row is None:
        return None
    return UserState(
        row.id,
        row.username,
        int(row.credential_generation),
        bool(row.is_admin),
        bool(row.banned),
        row.ban_reason or "",
    )


def revoke_user_credentials(conn: Connection, user_id: str, *, refresh_tokens: bool) -> int:
    """Every access token of the user issued so far is refused from now on (and with
    `refresh_tokens`, every refresh token too). Call it in the transaction that makes the
    change; returns the new generation."""
    generation = conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(credential_generation=users.c.credential_generation + 1)
        .returning(users.c.credential_generation)
    ).scalar()
    if refresh_tokens:
        revoke_all_for_user(conn, user_id)
    return int(generation or 0)


class UserStates:
    """Users' current states for a few seconds, at most `max_users` of them (the least
    recently used goes first), so a call with a user's token rarely reads the database."""

    MAX_USERS = 10_000

    def __init__(self, ttl_s: float, max_users: int = MAX_USERS) -> None:
        self.ttl_s = ttl_s
        self.max_users = max_users
        self._states: OrderedDict[str, tuple[UserState, float]] = OrderedDict()

    def get(self, user_id: str) -> UserState | None:
        cached = self._states.get(user_id)
        if cached is None:
            return None
        if cached[1] < time.monotonic():
            del self._states[user_id]
            return None
        self._states.move_to_end(user_id)
        return cached[0]

    def put(self, state: UserState) -> None:
        if self.ttl_s <= 0:
            return
        self._states[state.user_id] = (state, time.monotonic() + self.ttl_s)
        self._states.move_to_end(state.user_id)
        while len(self._states) > self.max_users:
            self._states.popitem(last=False)

    def forget(self, user_id: str) -> None:
        self._states.pop(user_id, None)

    def clear(self) -> None:
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)


async def current_user_state(ctx: ServerContext, user_id: str, fresh: bool = False) -> UserState:
    """The user's state: from the cache, or with `fresh` (admin calls) from the database.
    Unauthenticated when the user no longer exists."""
    state = None if fresh else ctx.user_states.get(user_id)
    if state is None:
        state = await ctx.db.run(load_user_state, user_id)
        if state is None:
            raise Unauthenticated("this account no longer exists; log in again")
        ctx.user_states.put(state)
    return state


def check_access(generation: int, state: UserState) -> None:
    """Refuses a token (or session cookie) issued under `generation` when a later change
    revoked it, and any of a banned user."""
    if state.banned:
        reason = f": {state.ban_reason}" if state.ban_reason else ""
        raise PermissionDenied(f"this account is banned{reason}")
    if generation != state.generation:
        raise Unauthenticated("access token revoked by a change to the account; log in again")


def announce_credentials_changed(ctx: ServerContext, user_id: str, why: str) -> None:
    """Call after committing a change made with `revoke_user_credentials` (or any change of
    role or ban): every server stops using what it cached about the user and its nodes, this
    one at once and, with Redis, the other replicas as soon as the announcement reaches them
    (their caches listen to USER announcements: server/app.py); without Redis, within the
    cache's TTL."""
    ctx.invalidations.announce(USER, user_id)
    log.info("credentials revoked user_id=%s why=%s", user_id, why)
