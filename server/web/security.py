"""What every response says to the browser about itself, and the check every form post passes.

Headers: a Content-Security-Policy that runs only this site's own script file and loads
nothing from elsewhere (so even markup that slipped through escaping could not run a
script), no framing, no MIME sniffing, no referrer to other sites, and no caching of pages
that show someone's data.

Forms: a POST is refused (403, nothing done) unless its CSRF token belongs to the visitor's
session, and unless the browser says it came from one of our own pages: an Origin header, when
sent, must be ours; Sec-Fetch-Site, when sent, must be same-origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from server.web.site import page, site_of, visitor_of
from server.web.visitors import SESSIONLESS_PREFIXES, Handler

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _add_headers(request, response)
        raise
    _add_headers(request, response)
    return response


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return  # a download sets its headers before its first byte (server/web/pages/jobs.py)
    headers = response.headers
    headers["Server"] = "HiveMind"  # not which aiohttp and Python versions answer
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if site_of(request).sessions.secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "public, max-age=86400")
    else:
        headers.setdefault("Cache-Control", "no-store")


def same_origin(request: web.Request) -> bool:
    """Whether the browser says this request came from one of our pages (a browser that says
    nothing, such as a command-line client, is judged by the CSRF token alone). The Origin's
    host and port must be the Host the request was sent to; its scheme is not compared, so a
    TLS-terminating proxy in front (https outside, http to us) keeps forms working, as long
    as it passes the Host header on."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == request.host.lower()


@web.middleware
async def csrf_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS or request.path.startswith(SESSIONLESS_PREFIXES):
        return await handler(request)
    visitor = visitor_of(request)
    form = await request.post()
    token = form.get("csrf")
    if not (
        same_origin(request)
        and isinstance(token, str)
        and site_of(request).sessions.csrf_matches(visitor.session, token)
    ):
        return page(request, "refused.html", status=403)
    return await handler(request)
