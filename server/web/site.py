"""What every page handler of one server's dashboard shares, and how a handler reaches it.

site = site_of(request)      # the server's context, sessions, network watch, templates
visitor = visitor_of(request)  # who asks, in which language (server/web/visitors.py)
return page(request, "network.html", state=...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from jinja2 import Environment

from server.accounts.users import UserRecord
from server.context import ServerContext
from server.jobs.access import Caller
from server.web.i18n import LANGUAGES, Translator
from server.web.network_watch import NetworkWatch
from server.web.rendering import render
from server.web.sessions import Flash, SessionClaims, WebSessions


@dataclass(frozen=True)
class Site:
    ctx: ServerContext
    sessions: WebSessions
    watch: NetworkWatch
    templates: Environment


SITE = web.AppKey("hivemind_site", Site)


@dataclass
class Visitor:
    """Who is asking. `session` is what the response's cookie will say: a handler that signs
    someone in or out, or leaves a message for the next page, replaces it (and sets
    `session_changed`)."""

    session: SessionClaims
    user: UserRecord | None
    translator: Translator
    flash: Flash | None = None
    session_changed: bool = False
    _csrf: str = field(default="", repr=False)

    @property
    def caller(self) -> Caller:
        """The signed-in user as the domain sees them (pages that need one are guarded)."""
        assert self.user is not None, "a page for signed-in users let a visitor through"
        return Caller(user_id=self.user.user_id, is_admin=self.user.is_admin)

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.is_admin

    def replace_session(self, session: SessionClaims) -> None:
        self.session = session
        self.session_changed = True
        self._csrf = ""


VISITOR = web.RequestKey("hivemind_visitor", Visitor)


def site_of(request: web.Request) -> Site:
    return request.app[SITE]


def visitor_of(request: web.Request) -> Visitor:
    return request[VISITOR]


def csrf_token(request: web.Request) -> str:
    visitor = visitor_of(request)
    if not visitor._csrf:
        visitor._csrf = site_of(request).sessions.csrf_token(visitor.session)
    return visitor._csrf


def page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    """The template rendered for this visitor: their language, their CSRF token for forms,
    the header's links for their role and any message left for them."""
    visitor = visitor_of(request)
    translator = visitor.translator
    context = {
        "_": translator.gettext,
        "translator": translator,
        "lang": translator.language,
        "html_lang": translator.html_lang,
        "languages": LANGUAGES,
        "user": visitor.user,
        "is_admin": visitor.is_admin,
        "csrf": csrf_token(request),
        "flash": visitor.flash,
        "path": request.path_qs,
        "section": request.path.strip("/").split("/")[0],
        **values,
    }
    body = render(site_of(request).templates, template, context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
