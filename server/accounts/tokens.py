"""User credentials after login: short-lived signed access tokens and rotating refresh tokens.

An access token is `<payload>.<signature>` (both base64url): the payload names the user, the
admin flag and the expiry; the signature is HMAC-SHA256 with a key kept in
`<data_dir>/token.key`. Checking one needs no database, which keeps every RPC cheap.

A refresh token is 256 random bits, stored only as its SHA-256. Each use returns a new one
and revokes the old; all tokens descended from one login share a family, and presenting a
revoked token again (a stolen copy racing the owner) revokes the whole family.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from server.errors import Unauthenticated
from server.ids import new_id
from server.store.schema import refresh_tokens

KEY_FILE = "token.key"
KEY_BYTES = 32


def load_or_create_key(data_dir: Path) -> bytes:
    """Reads the signing key, creating it (mode 0600) on the first start.

    The key is written to a temporary file and hard-linked into place, so two processes
    starting at once agree on one key and nobody ever reads a half-written file.
    """
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES).hex().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            tmp.unlink(missing_ok=True)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < KEY_BYTES:
        raise RuntimeError(f"{path} is damaged (expected {KEY_BYTES} bytes of hex)")
    return key


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    username: str
    is_admin: bool
    expires_at: int


class AccessTokenSigner:
    """Signs and verifies access tokens with one HMAC key."""

    def __init__(self, key: bytes, ttl_s: int) -> None:
        self._key = key
        self.ttl_s = ttl_s

    def _signature(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def derived_key(self, label: bytes) -> bytes:
        """A key for another purpose, derived from this one (never equal to it): servers
        sharing token.key share it too, and the database never holds it."""
        return hmac.new(self._key, label, hashlib.sha256).digest()

    def issue(
        self, user_id: str, username: str, is_admin: bool, now: float | None = None
    ) -> tuple[str, int]:
        """Returns (token, expires_at unix seconds)."""
        # Rounded up: a token lives at least its whole TTL (truncating cut up to a second off,
        # so a 1 s token could be born expired).
        expires_at = math.ceil((now if now is not None else time.time()) + self.ttl_s)
        payload = json.dumps(
            {"u": user_id, "n": username, "a": bool(is_admin), "exp": expires_at},
            separators=(",", ":"),
        ).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._signature(payload))}", expires_at

    def verify(self, token: str, now: float | None = None) -> AccessClaims:
        """The token's claims, or Unauthenticated when forged, malformed or expired."""
        try:
            payload_text, signature_text = token.split(".")
            payload = _b64decode(payload_text)
            signature = _b64decode(signature_text)
        except (ValueError, binascii.Error):
            raise Unauthenticated("invalid access token") from None
        if not hmac.compare_digest(signature, self._signature(payload)):
            raise Unauthenticated("invalid access token")
        try:
            claims = json.loads(payload)
            parsed = AccessClaims(
                user_id=str(claims["u"]),
                username=str(claims["n"]),
                is_admin=bool(claims["a"]),
                expires_at=int(claims["exp"]),
            )
        except (ValueError, KeyError, TypeError):
            raise Unauthenticated("invalid access token") from None
        if parsed.expires_at <= (now if now is not None else time.time()):
            raise Unauthenticated("access token expired; refresh it or log in again")
        return parsed


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
