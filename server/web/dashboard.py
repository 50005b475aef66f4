"""The dashboard's HTTP server: the pages, /metrics, /healthz and /readyz, on the event loop
that runs grpc.aio, in the same process.

aiohttp is the web framework because it is an asyncio server first: `AppRunner` and
`TCPSite` start and stop it inside a loop someone else owns, with an `ssl.SSLContext` for TLS,
and nothing else (no ASGI server in between, no signal handlers of its own to keep from
fighting the server's). Its request handling, cookies, forms, static files and streamed
responses (result downloads) cover what the dashboard needs.

    dashboard = Dashboard(ctx, secure=tls is not None, serving=lambda: True)
    port = await dashboard.start("127.0.0.1", 0, tls)
    ...
    await dashboard.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable

from aiohttp import web

from server.context import ServerContext
from server.web.errors import error_pages
from server.web.metrics import Probes
from server.web.network_watch import NetworkWatch
from server.web.pages import admin, jobs, network, nodes, signin
from server.web.rendering import STATIC_DIR, make_environment
from server.web.security import csrf_check, security_headers
from server.web.sessions import WebSessions
from server.web.site import SITE, Site
from server.web.visitors import visitors

log = logging.getLogger("hivemind.web")

MAX_REQUEST_BYTES = 64 * 1024  # the largest form (a ban reason, a memo) is far below this
SHUTDOWN_GRACE_S = 1.0


class Dashboard:
    def __init__(self, ctx: ServerContext, *, secure: bool, serving: Callable[[], bool]) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.watch = NetworkWatch(
            ctx,
            ttl_s=settings.web_state_cache_s,
            sample_every_s=settings.web_sample_interval_s,
        )
        self.site = Site(
            ctx=ctx,
            sessions=WebSessions(ctx.signing_keys, settings.web_session_ttl_s, secure),
            watch=self.watch,
            templates=make_environment(),
        )
        self.probes = Probes(ctx, self.watch, serving)
        self.app = self._build()
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._sampler: asyncio.Task[None] | None = None

    def _build(self) -> web.Application:
        app = web.Application(
            # Outermost first: every response gets the security headers; the visitor is
            # known before an error page is drawn for them and before a form is checked.
            middlewares=[security_headers, visitors, error_pages, csrf_check],
            client_max_size=MAX_REQUEST_BYTES,
        )
        app[SITE] = self.site
        app.router.add_get("/metrics", self.probes.metrics)
        app.router.add_get("/healthz", self.probes.healthz)
        app.router.add_get("/readyz", self.probes.readyz)
        app.router.add_static("/static/", STATIC_DIR)
        for part in (signin, network, jobs, nodes, admin):
            part.add_routes(app.router)
        return app

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None) -> int:
        """Listens on host:port (0: a free port, which is returned); raises OSError when the
        address cannot be had."""
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_S
        )
        # Compiling a template takes milliseconds of CPU: done now, in a thread, rather than
        # on the event loop by whichever request first needs it.
        await asyncio.to_thread(self._compile_templates)
        await runner.setup()
        site = web.TCPSite(runner, host.strip("[]"), port, ssl_context=tls, reuse_port=False)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._sampler = asyncio.create_task(self.watch.run(self._stop), name="hivemind-web-watch")
        bound = runner.addresses[0]
        return int(bound[1])

    def _compile_templates(self) -> None:
        templates = self.site.templates
        for name in templates.list_templates(extensions=["html"]):
            templates.get_template(name)

    async def stop(self) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sampler
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
