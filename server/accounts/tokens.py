"""User credentials after login: short-lived signed access tokens and rotating refresh tokens.

An access token is a JSON Web Token (server/accounts/signing.py) naming the user, the user's
credential generation and the expiry, signed with a key derived from `<data_dir>/token.key`.
Its signature is checked without the database; whether a later change revoked it, and the
user's current role, come from a small cache of the users table (revocation.py).

A refresh token is 256 random bits, stored only as its SHA-256. Each use returns a new one
and revokes the old; all tokens descended from one login share a family, and presenting a
revoked token again (a stolen copy racing the owner) revokes the whole family.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Connection, insert, select, update

from server.accounts.signing import ACCESS_TOKEN, SigningKeys
from server.errors import Unauthenticated
from server.ids import new_id
from server.store.schema import refresh_tokens


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    username: str
    is_admin: bool  # when issued; only the current role counts (revocation.py)
    expires_at: int
    generation: int = 0  # the user's credential generation when issued


class AccessTokenSigner:
    """Signs and verifies access tokens: JSON Web Tokens of purpose ACCESS_TOKEN (see
    signing.py), keyed by a key derived from token.key."""

    def __init__(self, key: bytes, ttl_s: int) -> None:
        self.keys = SigningKeys(key)
        self._signer = self.keys.signer(ACCESS_TOKEN, ttl_s, what="access token")
        self.ttl_s = ttl_s

    def issue(
        self,
        user_id: str,
        username: str,
        is_admin: bool,
        now: float | None = None,
        generation: int = 0,
    ) -> tuple[str, int]:
        """Returns (token, expires_at unix seconds)."""
        claims = {"sub": user_id, "name": username, "adm": bool(is_admin), "gen": generation}
        return self._signer.sign(claims, now=now)

    def verify(self, token: str) -> AccessClaims:
        """The token's claims, or Unauthenticated when forged, malformed or expired."""
        claims = self._signer.verify(token, expired_hint="refresh it or log in again")
        try:
            return AccessClaims(
                user_id=str(claims["sub"]),
                username=str(claims["name"]),
                is_admin=bool(claims["adm"]),
                expires_at=int(claims["exp"]),
                generation=int(claims["gen"]),
            )
        except (ValueError, KeyError, TypeError):
            raise Unauthenticated("invalid access token") from None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(
    conn: Connection, user_id: str, ttl_s: int, family_id: str | None = None
) -> tuple[str, int]:
    """Stores a new refresh token; returns (token, expires_at unix seconds)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    expires_at = math.ceil(now + ttl_s)
    conn.execute(
        insert(refresh_tokens).values(
            token_hash=token_hash(token),
            user_id=user_id,
            family_id=family_id or new_id("fam"),
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    return token, expires_at


class RefreshOutcome(Enum):
    ROTATED = "rotated"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REUSED = "reused"  # a revoked token came back: its family is now revoked


@dataclass(frozen=True)
class Rotation:
    outcome: RefreshOutcome
    user_id: str = ""
    token: str = ""
    expires_at: int = 0

    def raise_unless_rotated(self) -> None:
        """Call outside the transaction: a REUSED outcome's revocation must be committed."""
        if self.outcome is RefreshOutcome.UNKNOWN:
            raise Unauthenticated("invalid refresh token; log in again")
        if self.outcome is RefreshOutcome.EXPIRED:
            raise Unauthenticated("refresh token expired; log in again")
        if self.outcome is RefreshOutcome.REUSED:
            raise Unauthenticated(
                "refresh token was already used; every session of that login is revoked,"
                " log in again"
            )


def rotate_refresh_token(conn: Connection, token: str, ttl_s: int) -> Rotation:
    """Spends `token` and issues its successor in the same family.

    Returns an outcome instead of raising so the caller's transaction commits the family
    revocation of a reused token; call `raise_unless_rotated()` afterwards.
    """
    if not token:
        return Rotation(RefreshOutcome.UNKNOWN)
    row = conn.execute(
        select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash(token))
    ).first()
    if row is None:
        return Rotation(RefreshOutcome.UNKNOWN)
    now = time.time()
    if row.revoked_at is not None:
        revoke_family(conn, row.family_id)
        return Rotation(RefreshOutcome.REUSED, user_id=row.user_id)
    if row.expires_at <= now:
        return Rotation(RefreshOutcome.EXPIRED, user_id=row.user_id)
    # Only the caller that flips revoked_at from NULL wins a concurrent double use.
    spent = conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.token_hash == row.token_hash, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    if spent != 1:
        revoke_family(conn, row.family_id)
        return Rotation(RefreshOutcome.REUSED, user_id=row.user_id)
    new_token, expires_at = issue_refresh_token(conn, row.user_id, ttl_s, row.family_id)
    return Rotation(RefreshOutcome.ROTATED, row.user_id, new_token, expires_at)


def revoke_family(conn: Connection, family_id: str) -> int:
    return conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=time.time())
    ).rowcount


def revoke_session(conn: Connection, token: str, user_id: str) -> bool:
    """Logout: revokes the token's whole family (that login on that device)."""
    family_id = conn.execute(
        select(refresh_tokens.c.family_id).where(
            refresh_tokens.c.token_hash == token_hash(token), refresh_tokens.c.user_id == user_id
        )
    ).scalar()
    if family_id is None:
        return False
    revoke_family(conn, family_id)
    return True


def revoke_all_for_user(conn: Connection, user_id: str) -> int:
    return conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=time.time())
    ).rowcount
