"""Who is at the other end of the browser: the session cookie, and the CSRF token of its forms.

Every visitor gets a session, signed in or not: a JSON Web Token of purpose WEB_SESSION
(server/accounts/signing.py) in a cookie that scripts cannot read (HttpOnly), that the browser
sends only to this site's own pages (SameSite=Strict) and, under TLS, only over TLS (Secure,
and the `__Host-` name prefix, so no other host can set it). It names a random session id
(`sid`), the signed-in user (`sub`) with the credential generation they signed in under
(`gen`), and a message to show on the next page (`flash`). The server keeps nothing: the
signature, the expiry and the user's current row decide; a ban, a role change or a password
change bumps the user's generation (server/accounts/revocation.py), which ends the session
as it revokes their access tokens.

Signing in starts a new session (a new `sid`), so a session id someone planted before the
sign-in is worth nothing after it. Signing out replaces the cookie with a new anonymous one.

Every form carries a CSRF token: a JWT of purpose CSRF naming the session id, checked on
every POST together with the browser's Origin and Sec-Fetch-Site headers. A page of another
site can make the browser post to us (and, from a site on the same host, even with our
cookie), but it cannot read our pages, so it never has the token.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from server.accounts.signing import CSRF, WEB_SESSION, SigningKeys
from server.errors import Unauthenticated

PLAIN_COOKIE = "hivemind-session"
TLS_COOKIE = "__Host-hivemind-session"  # the prefix makes browsers insist on Secure, Path=/
MAX_FLASH_CHARS = 500


@dataclass(frozen=True)
class Flash:
    """A one-line message for the next page the visitor sees: `kind` is ok or error."""

    kind: str
    text: str


@dataclass(frozen=True)
class SessionClaims:
    sid: str
    user_id: str  # "" while signed out
    expires_at: int
    flash: Flash | None = None
    generation: int = 0  # the user's credential generation at sign-in


class WebSessions:
    """Makes and reads the session cookie and the CSRF tokens of one server."""

    def __init__(self, keys: SigningKeys, ttl_s: int, secure: bool) -> None:
        self.ttl_s = ttl_s
        self.secure = secure
        self.cookie_name = TLS_COOKIE if secure else PLAIN_COOKIE
        self._cookies = keys.signer(WEB_SESSION, ttl_s, what="dashboard session")
        self._csrf = keys.signer(CSRF, ttl_s, what="form token")

    def new(self, user_id: str = "", generation: int = 0) -> SessionClaims:
        """A fresh session (a new session id), signed in as `user_id` when given, under the
        user's current credential `generation`."""
        expires_at = int(time.time()) + self.ttl_s
        return SessionClaims(secrets.token_urlsafe(18), user_id, expires_at, None, generation)

    def read(self, value: str | None) -> SessionClaims | None:
        """The session a cookie names; None when it is missing, forged or expired."""
        if not value:
            return None
        try:
            claims = self._cookies.verify(value)
            flash = claims.get("flash")
            return SessionClaims(
                sid=str(claims["sid"]),
                user_id=str(claims.get("sub") or ""),
                expires_at=int(claims["exp"]),
                flash=Flash(str(flash[0]), str(flash[1])) if flash else None,
                generation=int(claims.get("gen") or 0),
            )
        except (Unauthenticated, KeyError, TypeError, ValueError, IndexError):
            return None

    def encode(self, session: SessionClaims) -> str:
        """The cookie's value; it expires when the session does (a flash keeps that time)."""
        claims: dict[str, Any] = {"sid": session.sid}
        if session.user_id:
            claims["sub"] = session.user_id
            claims["gen"] = session.generation
        if session.flash is not None:
            claims["flash"] = [session.flash.kind, session.flash.text[:MAX_FLASH_CHARS]]
        now = time.time()
        value, _ = self._cookies.sign(claims, now=now, ttl_s=max(1, int(session.expires_at - now)))
        return value

    def cookie_options(self, session: SessionClaims) -> dict[str, Any]:
        return {
            "max_age": max(0, int(session.expires_at - time.time())),
            "path": "/",
            "httponly": True,
            "secure": self.secure,
            "samesite": "Strict",
        }

    def csrf_token(self, session: SessionClaims) -> str:
        token, _ = self._csrf.sign({"sid": session.sid})
        return token

    def csrf_matches(self, session: SessionClaims | None, token: str) -> bool:
        if session is None or not token:
            return False
        try:
            claims = self._csrf.verify(token)
        except Unauthenticated:
            return False
        return secrets.compare_digest(str(claims.get("sid", "")), session.sid)


def with_flash(session: SessionClaims, kind: str, text: str) -> SessionClaims:
    return replace(session, flash=Flash(kind, " ".join(text.split())[:MAX_FLASH_CHARS]))
