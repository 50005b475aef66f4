"""Everything the server signs: one library (PyJWT, HS256), one key file, a key per purpose.

The server signs short-lived statements that it reads back later without a database: gRPC
access tokens, the web dashboard's session cookies and its CSRF tokens. All of them are JSON
Web Tokens (RFC 7519) made and checked by PyJWT, so the format is the standard one and the
library checks what hand-rolled code tends to get wrong: the algorithm is pinned (a token
naming `none` or another algorithm is refused), the expiry (`exp`) is required and enforced,
and so is the audience (`aud`).

Purposes never share a key. `<data_dir>/token.key` (256 random bits, mode 0600) is the root;
each purpose signs with its own key derived from it by HKDF-Expand (RFC 5869; the root is
uniformly random already, so the extract step is skipped as section 3.3 allows), and names
itself in `aud` as well. A CSRF token therefore never passes as a session cookie, nor a
session cookie as an access token, and no key derived here equals the root. Servers that
share token.key (replicas behind one address) accept each other's tokens; the database
never holds a key.

    keys = SigningKeys(load_or_create_key(data_dir))
    cookie = keys.signer(WEB_SESSION, ttl_s=8 * 3600)
    value, expires_at = cookie.sign({"sub": user_id, "gen": generation, "sid": session_id})
    claims = cookie.verify(value)          # Unauthenticated when forged, expired or for
                                           # another purpose
    state = await current_user_state(ctx, claims["sub"])      # server/accounts/revocation.py:
    check_access(claims["gen"], state)     # refused once a role change, ban or password
                                           # change revoked it
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt

from server.errors import Unauthenticated

KEY_FILE = "token.key"
KEY_BYTES = 32
ALGORITHM = "HS256"
AUDIENCE_PREFIX = "hivemind:"

# The purposes. A new one is a new constant here: its key and audience follow from the name.
ACCESS_TOKEN = "access-token"  # gRPC bearer tokens (server/accounts/tokens.py)
WEB_SESSION = "web-session"  # the dashboard's session cookie
CSRF = "csrf"  # the dashboard's per-session form tokens
SIGNUP_NETWORK = "signup-network"  # a keyed hash, not a signature (signup_limits.py)
REPLICA = "replica"  # replicas fetching artifacts from each other (server/rpc/replicas.py)


def load_or_create_key(data_dir: Path) -> bytes:
    """Reads the root key, creating it (mode 0600) on the first start.

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


class Signer:
    """Signs and verifies the tokens of one purpose. `what` names them in error messages
    ("access token"); `ttl_s` is how long a token lives unless `sign` is told otherwise."""

    def __init__(self, key: bytes, purpose: str, ttl_s: int, what: str = "") -> None:
        self._key = key
        self.purpose = purpose
        self.audience = AUDIENCE_PREFIX + purpose
        self.ttl_s = ttl_s
        self.what = what or purpose.replace("-", " ")

    def sign(
        self, claims: Mapping[str, Any], *, now: float | None = None, ttl_s: int | None = None
    ) -> tuple[str, int]:
        """A token carrying `claims` (JSON values); returns (token, expires_at unix seconds).

        The expiry is rounded up: a token lives at least its whole TTL (truncating would cut
        up to a second off, so a 1 s token could be born expired).
        """
        issued = time.time() if now is None else now
        expires_at = math.ceil(issued + (self.ttl_s if ttl_s is None else ttl_s))
        payload = {**claims, "aud": self.audience, "iat": int(issued), "exp": expires_at}
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), expires_at

    def verify(self, token: str, expired_hint: str = "") -> dict[str, Any]:
        """The token's claims; Unauthenticated when it is forged, malformed, expired, or made
        for another purpose. `expired_hint` follows "... expired; " (what to do about it)."""
        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                # iat is informative only: replicas' clocks may differ by a second or two.
                options={"require": ["exp", "aud"], "verify_iat": False},
            )
        except jwt.ExpiredSignatureError:
            hint = f"; {expired_hint}" if expired_hint else ""
            raise Unauthenticated(f"{self.what} expired{hint}") from None
        except jwt.PyJWTError:
            raise Unauthenticated(f"invalid {self.what}") from None


class SigningKeys:
    """The per-purpose keys derived from one root key (token.key)."""

    def __init__(self, root_key: bytes) -> None:
        if len(root_key) < KEY_BYTES:
            raise ValueError(f"the root key needs at least {KEY_BYTES} bytes")
        self._root = root_key

    def key_for(self, purpose: str) -> bytes:
        """HKDF-Expand(root, info="hivemind/v1/<purpose>", 32 bytes): one HMAC-SHA256 block."""
        info = f"hivemind/v1/{purpose}".encode()
        return hmac.new(self._root, info + b"\x01", hashlib.sha256).digest()

    def signer(self, purpose: str, ttl_s: int, what: str = "") -> Signer:
        return Signer(self.key_for(purpose), purpose, ttl_s, what)

    def keyed_hash(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 hex of `value` under the purpose's key: what a table keeps when it
        must tell values apart without holding them (a network a sign-up came from)."""
        return hmac.new(self.key_for(purpose), value.encode(), hashlib.sha256).hexdigest()
