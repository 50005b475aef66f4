"""Sessions: what register, login and refresh hand back (an access and a refresh token)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection

from server.accounts import tokens, users
from server.accounts.signup_limits import signup_address
from server.accounts.users import UserRecord
from server.context import ServerContext


@dataclass(frozen=True)
class SessionTokens:
    user: UserRecord
    access_token: str
    access_expires_at: int
    refresh_token: str
    refresh_expires_at: int


def _open_session(
    ctx: ServerContext, conn: Connection, user: UserRecord, family_id: str | None = None
) -> SessionTokens:
    refresh, refresh_expires = tokens.issue_refresh_token(
        conn, user.user_id, ctx.settings.refresh_token_ttl_s, family_id
    )
    access, access_expires = _access_token(ctx, user)
    return SessionTokens(user, access, access_expires, refresh, refresh_expires)


def _access_token(ctx: ServerContext, user: UserRecord) -> tuple[str, int]:
    return ctx.token_signer.issue(
        user.user_id, user.username, user.is_admin, generation=user.credential_generation
    )


async def register(
    ctx: ServerContext, username: str, password: str, address: str = ""
) -> SessionTokens:
    """A new account with its signup grant. `address` is the client's network address:
    each one may open only so many accounts per hour (see signup_limits)."""
    username = users.validate_username(username)
    signup = signup_address(ctx, address)
    if signup.limited:
        await ctx.db.run(signup.check)  # refused before the costly password hash
    password_hash = await users.hash_new_password(username, password)

    def create(conn: Connection) -> SessionTokens:
        now = time.time()
        signup.admit(conn, now)  # first: decided in the transaction that counts the account
        user = users.insert_user(
            conn, username, password_hash, signup_grant_ucpt=ctx.settings.signup_grant_ucpt
        )
        signup.record(conn, user.user_id, now)
        return _open_session(ctx, conn, user)

    return await ctx.db.run(create)


async def login(ctx: ServerContext, username: str, password: str) -> SessionTokens:
    user = await users.login(ctx, username, password)
    return await ctx.db.run(lambda conn: _open_session(ctx, conn, user))


async def refresh(ctx: ServerContext, refresh_token: str) -> SessionTokens:
    """Rotates the refresh token. The user is re-read, so a changed admin role applies and
    the new access token carries the current credential generation."""

    def rotate(conn: Connection) -> tuple[tokens.Rotation, SessionTokens | None]:
        rotation = tokens.rotate_refresh_token(
            conn, refresh_token, ctx.settings.refresh_token_ttl_s
        )
        if rotation.outcome is not tokens.RefreshOutcome.ROTATED:
            return rotation, None
        user = users.get_user(conn, rotation.user_id)
        users.check_not_banned(user)  # a ban revoked the refresh tokens; this is the backstop
        access, access_expires = _access_token(ctx, user)
        session = SessionTokens(user, access, access_expires, rotation.token, rotation.expires_at)
        return rotation, session

    rotation, session = await ctx.db.run(rotate)
    rotation.raise_unless_rotated()  # after the commit, so a reuse's revocation sticks
    assert session is not None
    return session


async def logout(ctx: ServerContext, user_id: str, refresh_token: str) -> bool:
    """Revokes the session of `refresh_token` (its whole family). False when unknown."""
    if not refresh_token:
        return False
    return await ctx.db.run(tokens.revoke_session, refresh_token, user_id)
