"""Users: registration (with starter credit), login with lockout, passwords, admin role.

Argon2 is slow on purpose, so a login claims the attempt in one transaction (counting it as
failed, or refusing it while the name is locked), verifies the password in a worker thread
(holding neither the event loop nor the database thread), and on success resets the count in
a second transaction.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.accounts.passwords import hash_password, spend_verify_time, verify_password
from server.accounts.revocation import announce_credentials_changed, revoke_user_credentials
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
    credential_generation: int = 0  # what access tokens issued now carry (revocation.py)
    banned: bool = False
    ban_reason: str = ""


def _record(row: Any) -> UserRecord:
    return UserRecord(
        row.id,
        row.username,
        bool(row.is_admin),
        float(row.created_at),
        int(row.credential_generation),
        bool(row.banned),
        row.ban_reason or "",
    )


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
    """Creates the user and, in the same transaction, grants the signup amount as starter
    credit (server/ledger/starter.py)."""
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
                credential_generation=0,
                banned=False,
                ban_reason="",
                transfer_misses=0,
                transfer_misses_since=0.0,
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
            memo="starter credit",
            starter=True,
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
    """Gives or takes the admin role. A change revokes the user's access tokens (their
    client refreshes and gets one with the new role); see change_role for a running server."""
    user = find_user(conn, username)
    if user.is_admin == is_admin:
        return user
    conn.execute(update(users).where(users.c.id == user.user_id).values(is_admin=is_admin))
    generation = revoke_user_credentials(conn, user.user_id, refresh_tokens=False)
    return replace(user, is_admin=is_admin, credential_generation=generation)


MAX_BAN_REASON_CHARS = 200


def set_banned(conn: Connection, username: str, banned: bool, reason: str = "") -> UserRecord:
    """Bans a user (every token and session revoked, logins refused, their nodes refused) or
    lifts the ban (they log in again). See ban_user for a running server."""
    reason = (reason or "").strip()
    if len(reason) > MAX_BAN_REASON_CHARS:
        raise InvalidArgument(f"reason too long (at most {MAX_BAN_REASON_CHARS} characters)")
    user = find_user(conn, username)
    conn.execute(
        update(users)
        .where(users.c.id == user.user_id)
        .values(banned=banned, ban_reason=reason if banned else "")
    )
    generation = user.credential_generation
    if banned:
        generation = revoke_user_credentials(conn, user.user_id, refresh_tokens=True)
    return replace(
        user, banned=banned, ban_reason=reason if banned else "", credential_generation=generation
    )


async def change_role(ctx: ServerContext, username: str, is_admin: bool) -> UserRecord:
    """set_admin on a running server: the change is seen by this server at once."""
    user = await ctx.db.run(set_admin, username, is_admin)
    announce_credentials_changed(ctx, user.user_id, "admin role" if is_admin else "demoted")
    return user


async def ban_user(ctx: ServerContext, username: str, banned: bool, reason: str = "") -> UserRecord:
    """set_banned on a running server: the change is seen by this server at once."""
    user = await ctx.db.run(set_banned, username, banned, reason)
    announce_credentials_changed(ctx, user.user_id, "banned" if banned else "ban lifted")
    return user


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


@dataclass(frozen=True)
class LoginClaim:
    """What claiming one login attempt found. `locked_until` > 0: the name is locked and the
    attempt may not go on. Else `row` is the user (None when the name has no account) and
    `locked_if_wrong` the lock this attempt's count set, which a wrong password reports."""

    row: Any = None
    locked_until: float = 0.0
    locked_if_wrong: float = 0.0


_LOGIN_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.password_hash,
    users.c.is_admin,
    users.c.created_at,
    users.c.failed_logins,
    users.c.locked_until,
    users.c.credential_generation,
    users.c.banned,
    users.c.ban_reason,
)


def claim_login_attempt(conn: Connection, key: str, now: float) -> LoginClaim:
    """Counts one login attempt as failed *before* its password is checked, unless the name is
    locked; the lock that this count calls for is set in the same transaction.

    The count and the lock are one atomic step, so attempts arriving together are admitted
    one after another: after FREE_FAILURES of them the name is locked and the rest are
    refused without their password being looked at, however many servers share the database
    (on SQLite the UPDATE takes the write lock first; on PostgreSQL a concurrent claim loses
    its serializable transaction and is run again, seeing the lock). A right password then
    resets the count (`record_login_success`)."""
    row = conn.execute(
        update(users)
        .where(users.c.username_key == key, users.c.locked_until <= now)
        .values(failed_logins=users.c.failed_logins + 1)
        .returning(*_LOGIN_COLUMNS)
    ).first()
    if row is None:
        locked_until = conn.execute(
            select(users.c.locked_until).where(users.c.username_key == key)
        ).scalar()
        return LoginClaim(locked_until=float(locked_until or 0.0))
    lock = lockout_seconds(int(row.failed_logins))
    if not lock:
        return LoginClaim(row)
    conn.execute(update(users).where(users.c.id == row.id).values(locked_until=now + lock))
    return LoginClaim(row, locked_if_wrong=now + lock)


def record_login_success(conn: Connection, user_id: str) -> None:
    conn.execute(
        update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=0.0)
    )


def check_not_banned(user: UserRecord) -> None:
    if user.banned:
        reason = f": {user.ban_reason}" if user.ban_reason else ""
        raise PermissionDenied(f"this account is banned{reason}")


def _locked_error(locked_until: float) -> ResourceExhausted:
    wait = max(1, int(locked_until - time.time() + 0.999))
    return ResourceExhausted(
        f"too many failed logins; try again in {wait} s", reason="LOGIN_LOCKED", retry_after_s=wait
    )


class UnknownNameFailures:
    """Failed logins for names that have no account, counted in memory like real ones (each
    attempt counted before the time a password check would take), so neither the lockout nor
    its timing under concurrent guesses tells an attacker which usernames exist."""

    MAX_NAMES = 10_000

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}

    def claim(self, key: str, now: float) -> tuple[float, float]:
        """(locked_until before this attempt, locked_until after counting it); an attempt
        while locked is not counted, as for a real account. Runs on the event loop, so
        attempts arriving together are counted one after another."""
        failures, locked_until = self._failures.get(key, (0, 0.0))
        if locked_until > now:
            return locked_until, locked_until
        self._failures.pop(key, None)
        if len(self._failures) >= self.MAX_NAMES:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest name
        failures += 1
        lock = lockout_seconds(failures)
        self._failures[key] = (failures, now + lock if lock else 0.0)
        return 0.0, self._failures[key][1]


async def login(ctx: ServerContext, username: str, password: str) -> UserRecord:
    """The user, or Unauthenticated(WRONG_LOGIN) whether the name or the password is wrong;
    ResourceExhausted while the name is locked."""
    # No account has a longer name or password, so these change nothing and reveal nothing;
    # they keep the failure tracker's keys and the hashing work per request bounded.
    if len(username or "") > MAX_LOGIN_NAME_CHARS:
        raise InvalidArgument(f"username too long: at most {MAX_LOGIN_NAME_CHARS} characters")
    if len(password or "") > MAX_PASSWORD_CHARS:
        raise InvalidArgument(f"password too long: at most {MAX_PASSWORD_CHARS} characters")
    key = (username or "").strip().lower()
    now = time.time()
    claim = (
        await ctx.db.run(claim_login_attempt, key, now)
        if USERNAME_RE.fullmatch(key)
        else LoginClaim()
    )
    if claim.locked_until:
        raise _locked_error(claim.locked_until)
    if claim.row is None:
        locked_before, locked_after = ctx.unknown_name_failures.claim(key, now)
        if locked_before:
            raise _locked_error(locked_before)
        await asyncio.to_thread(spend_verify_time, password or "")
        if locked_after:
            raise _locked_error(locked_after)
        raise Unauthenticated(WRONG_LOGIN, reason="WRONG_LOGIN")
    row = claim.row
    ok = await asyncio.to_thread(verify_password, row.password_hash, password or "")
    if ok:
        await ctx.db.run(record_login_success, row.id)
        user = _record(row)
        check_not_banned(user)  # said only to whoever knows the password
        return user
    if claim.locked_if_wrong:
        raise _locked_error(claim.locked_if_wrong)
    raise Unauthenticated(WRONG_LOGIN, reason="WRONG_LOGIN")


async def change_password(
    ctx: ServerContext, user_id: str, old_password: str, new_password: str
) -> None:
    """Sets a new password and revokes every token of the user, the caller's too: every
    device, this one included, logs in again with the new password."""
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
        revoke_user_credentials(conn, user_id, refresh_tokens=True)

    await ctx.db.run(store)
    announce_credentials_changed(ctx, user_id, "password changed")
