"""Who is asking, on every page: the middleware that reads the session cookie and the language,
the guards of pages for signed-in users and for admins, and how a form's action ends (a
message for the next page, then back to a page: POST, redirect, GET).

A signed-in session names a user id and their credential generation; the user is read again
on every request, so a deleted or banned account, a role change or a password change (each
bumps the generation, as it revokes access tokens) ends the session at the next click, never
a stale cookie.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web

from server.accounts import users
from server.accounts.users import UserRecord
from server.context import ServerContext
from server.errors import DomainError, NotFound, PermissionDenied
from server.web.i18n import LANGUAGE_COOKIE, Translator, language_from
from server.web.sessions import SessionClaims, with_flash
from server.web.site import VISITOR, Visitor, site_of, visitor_of

log = logging.getLogger("hivemind.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Machine endpoints and files: no session, no cookie.
SESSIONLESS_PREFIXES = ("/static/", "/metrics", "/healthz", "/readyz")
LIVE_HEADER = "X-HiveMind-Live"  # sent by static/live.js when it fetches a page's live part


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser GETs `location` (a reload does not re-post)."""
    return web.Response(status=303, headers={"Location": location})


def local_path(target: str | None, default: str = "/network") -> str:
    """`target` if it is a path on this site, else `default`: a sign-in link cannot send the
    visitor to another site afterwards."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


async def signed_in_user(ctx: ServerContext, user_id: str) -> UserRecord | None:
    try:
        return await ctx.db.run(users.get_user, user_id)
    except NotFound:
        return None


def _still_valid(session: SessionClaims, user: UserRecord | None) -> bool:
    """A signed-in session holds while its user exists, is not banned and has the credential
    generation the session was signed in under."""
    return user is not None and not user.banned and user.credential_generation == session.generation


@web.middleware
async def visitors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(SESSIONLESS_PREFIXES):
        return await handler(request)
    site = site_of(request)
    sessions = site.sessions
    session = sessions.read(request.cookies.get(sessions.cookie_name))
    changed = session is None
    if session is None:
        session = sessions.new()
    user = await signed_in_user(site.ctx, session.user_id) if session.user_id else None
    if session.user_id and not _still_valid(session, user):
        session, user, changed = sessions.new(), None, True
    flash = session.flash
    if flash is not None and request.method == "GET" and LIVE_HEADER not in request.headers:
        session, changed = replace(session, flash=None), True  # shown on this page only
    else:
        flash = None
    language = language_from(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language")
    )
    visitor = Visitor(session, user, Translator(language), flash, changed)
    request[VISITOR] = visitor
    response = await handler(request)
    if visitor.session_changed and not response.prepared:
        response.set_cookie(
            sessions.cookie_name,
            sessions.encode(visitor.session),
            **sessions.cookie_options(visitor.session),
        )
    return response


def signed_in(handler: Handler) -> Handler:
    """Only for signed-in visitors: others go to the sign-in page (and come back after)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if visitor_of(request).user is None:
            if request.method == "GET" and LIVE_HEADER not in request.headers:
                return redirect(f"/signin?next={quote(request.path_qs, safe='/')}")
            return web.Response(status=401, text="sign in first\n")
        return await handler(request)

    return guarded


def admin_only(handler: Handler) -> Handler:
    """Only for signed-in admins (the role as it is now, read with the user)."""

    @signed_in
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not visitor_of(request).is_admin:
            raise PermissionDenied("this page needs the admin role")
        return await handler(request)

    return guarded


async def act(
    request: web.Request, back: str, action: Callable[[], Awaitable[str]]
) -> web.Response:
    """Runs a form's action and returns to `back`, where its outcome shows: the line
    `action` returns, or the error that refused it (which changed nothing). Not found and
    not allowed are not outcomes of a form: they answer as pages do (404, 403)."""
    visitor = visitor_of(request)
    try:
        message = await action()
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        visitor.replace_session(with_flash(visitor.session, "error", str(error)))
    else:
        visitor.replace_session(with_flash(visitor.session, "ok", message))
    return redirect(back)
