"""Users: registration (with the signup grant), login with lockout, passwords, admin role.

Argon2 is slow on purpose, so a login reads the hash in one transaction, verifies it in a
worker thread (holding neither the event loop nor the database thread), then records the
outcome in a second transaction.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.accounts.passwords import hash_password, spend_verify_time, verify_password
from server.accounts.tokens import revoke_all_for_user
from server.context import ServerContext
from server.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from server.ids import new_id
from server.ledger import journal as ledger
from server.store.schema import users

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{3,32}")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # argon2 takes anything; this only bounds the work per request
MAX_LOGIN_NAME_CHARS = 64  # names are at most 32; some slack for surrounding spaces
WRONG_LOGIN = "wrong username or password"
# After this many failed logins in a row, each further failure locks the username for
# LOCKOUT_BASE_S doubled per extra failure, at most LOCKOUT_MAX_S.
FREE_FAILURES = 5
LOCKOUT_BASE_S = 30.0
LOCKOUT_MAX_S = 3600.0


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    username: str
    is_admin: bool
    created_at: float


def _record(row: Any) -> UserRecord:
    return UserRecord(row.id, row.username, bool(row.is_admin), float(row.created_at))


def validate_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.fullmatch(username):
        raise InvalidArgument(
            f"invalid username {username!r}: use 3 to 32 letters, digits or underscores",
            reason="INVALID_USERNAME",
        )
    return username


def validate_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise InvalidArgument(
            f"password too short: use at least {MIN_PASSWORD_CHARS} characters",
            reason="PASSWORD_TOO_SHORT",
            min_chars=MIN_PASSWORD_CHARS,
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidArgument(
            f"password too long: at most {MAX_PASSWORD_CHARS} characters",
            reason="PASSWORD_TOO_LONG",
            max_chars=MAX_PASSWORD_CHARS,
        )
    return password


def lockout_seconds(failures: int) -> float:
    """How long the username stays locked after `failures` failed logins in a row."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(LOCKOUT_BASE_S * 2 ** (failures - FREE_FAILURES), LOCKOUT_MAX_S)


def insert_user(
    conn: Connection,
    username: str,
    password_hash: str,
    *,
    is_admin: bool = False,
    signup_grant_ucpt: int = 0,
) -> UserRecord:
    """Creates the user and, in the same transaction, grants the signup amount."""
    key = username.lower()
    if conn.execute(select(users.c.id).where(users.c.username_key == key)).first():
        raise AlreadyExists(
            f"username {username!r} is taken", reason="USERNAME_TAKEN", username=username
        )
    user = UserRecord(new_id("user"), username, is_admin, time.time())
    try:
        conn.execute(
            insert(users).values(
                id=user.user_id,
                username=username,
                username_key=key,
                password_hash=password_hash,
                is_admin=is_admin,
                created_at=user.created_at,
                failed_logins=0,
                locked_until=0.0,
            )
        )
    except IntegrityError:
        # Another process (the admin CLI) took the name between the check and the insert.
        raise AlreadyExists(
            f"username {username!r} is taken", reason="USERNAME_TAKEN", username=username
        ) from None
    ledger.user_account_id(conn, user.user_id)
    if signup_grant_ucpt > 0:
        ledger.grant(
            conn,
            user.user_id,
            signup_grant_ucpt,
            idempotency_key=f"signup:{user.user_id}",
            memo="signup grant",
        )
    return user


async def hash_new_password(username: str, password: str) -> str:
    validate_username(username)
    validate_password(password)
    return await asyncio.to_thread(hash_password, password)


def get_user(conn: Connection, user_id: str) -> UserRecord:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id}")
    return _record(row)


def find_user(conn: Connection, username: str) -> UserRecord:
    row = conn.execute(
        select(users).where(users.c.username_key == (username or "").strip().lower())
    ).first()
    if row is None:
        raise NotFound(f"no user named {username!r}")
    return _record(row)


def set_admin(conn: Connection, username: str, is_admin: bool) -> UserRecord:
    user = find_user(conn, username)
    conn.execute(update(users).where(users.c.id == user.user_id).values(is_admin=is_admin))
    return UserRecord(user.user_id, user.username, is_admin, user.created_at)


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar() or 0)


def list_users(conn: Connection, offset: int, limit: int) -> list[tuple[UserRecord, int]]:
    """Users by name with their balances."""
    rows = conn.execute(
        select(users).order_by(users.c.username_key).offset(offset).limit(limit)
    ).all()
    return [
        (_record(row), ledger.balance(conn, ledger.user_account_id(conn, row.id))) for row in rows
    ]


# Logins -------------------------------------------------------------------------------


def _login_state(conn: Connection, key: str) -> Any:
    return conn.execute(
        select(
            users.c.id,
            users.c.username,
            users.c.password_hash,
            users.c.is_admin,
            users.c.created_at,
            users.c.failed_logins,
            users.c.locked_until,
        ).where(users.c.username_key == key)
    ).first()


def _record_login_outcome(conn: Connection, user_id: str, ok: bool) -> float:
    """Resets or counts failures; returns the new locked_until (0 = not locked)."""
    if ok:
        conn.execute(
            update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=0.0)
        )
        return 0.0
    failures = int(
        conn.execute(select(users.c.failed_logins).where(users.c.id == user_id)).scalar() or 0
    )
    failures += 1
    lock = lockout_seconds(failures)
    locked_until = time.time() + lock if lock else 0.0
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(failed_logins=failures, locked_until=locked_until)
    )
    return locked_until


def _locked_error(locked_until: float) -> ResourceExhausted:
    wait = max(1, int(locked_until - time.time() + 0.999))
    return ResourceExhausted(
        f"too many failed logins; try again in {wait} s", reason="LOGIN_LOCKED", retry_after_s=wait
    )


class UnknownNameFailures:
    """Failed logins for names that have no account, counted in memory like real ones, so
    the lockout does not tell an attacker which usernames exist."""

    MAX_NAMES = 10_000

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}

    def locked_until(self, key: str) -> float:
        return self._failures.get(key, (0, 0.0))[1]

    def fail(self, key: str, now: float) -> float:
        failures = self._failures.pop(key, (0, 0.0))[0] + 1
        if len(self._failures) >= self.MAX_NAMES:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest name
        lock = lockout_seconds(failures)
        locked_until = now + lock if lock else 0.0
        self._failures[key] = (failures, locked_until)
        return locked_until


def _unknown_name_failures(ctx: ServerContext) -> UnknownNameFailures:
    tracker = ctx.extras.get("unknown_name_failures")
    if tracker is None:
        tracker = ctx.extras["unknown_name_failures"] = UnknownNameFailures()
    return tracker


async def login(ctx: ServerContext, username: str, password: str) -> UserRecord:
    """The user, or Unauthenticated(WRONG_LOGIN) whether the name or the password is wrong."""
    # No account has a longer name or password, so these change nothing and reveal nothing;
    # they keep the failure tracker's keys and the hashing work per request bounded.
    if len(username or "") > MAX_LOGIN_NAME_CHARS:
        raise InvalidArgument(f"username too long: at most {MAX_LOGIN_NAME_CHARS} characters")
    if len(password or "") > MAX_PASSWORD_CHARS:
        raise InvalidArgument(f"password too long: at most {MAX_PASSWORD_CHARS} characters")
    key = (username or "").strip().lower()
    row = await ctx.db.run(_login_state, key) if USERNAME_RE.fullmatch(key) else None
    if row is None:
        unknown = _unknown_name_failures(ctx)
        if unknown.locked_until(key) > time.time():
            raise _locked_error(unknown.locked_until(key))
        await asyncio.to_thread(spend_verify_time, password or "")
        locked_until = unknown.fail(key, time.time())
        if locked_until:
            raise _locked_error(locked_until)
        raise Unauthenticated(WRONG_LOGIN, reason="WRONG_LOGIN")
    if row.locked_until > time.time():
        raise _locked_error(row.locked_until)
    ok = await asyncio.to_thread(verify_password, row.password_hash, password or "")
    locked_until = await ctx.db.run(_record_login_outcome, row.id, ok)
    if not ok:
        if locked_until:
            raise _locked_error(locked_until)
        raise Unauthenticated(WRONG_LOGIN, reason="WRONG_LOGIN")
    return _record(row)


async def change_password(
    ctx: ServerContext, user_id: str, old_password: str, new_password: str
) -> None:
    """Sets a new password and revokes every refresh token of the user (other devices
    must log in again; their access tokens expire within the access-token lifetime)."""
    validate_password(new_password)
    current = await ctx.db.run(
        lambda conn: conn.execute(
            select(users.c.password_hash).where(users.c.id == user_id)
        ).scalar()
    )
    if current is None:
        raise NotFound(f"no user {user_id}")
    if not await asyncio.to_thread(verify_password, current, old_password or ""):
        raise PermissionDenied("the current password is wrong")
    new_hash = await asyncio.to_thread(hash_password, new_password)

    def store(conn: Connection) -> None:
        conn.execute(update(users).where(users.c.id == user_id).values(password_hash=new_hash))
        revoke_all_for_user(conn, user_id)

    await ctx.db.run(store)
