"""The web dashboard, /metrics, /healthz and /readyz: served by the server process itself, on
the event loop that runs grpc.aio (server/app.py starts it).

    dashboard.py      the aiohttp application: routes, middlewares, start and stop
    site.py           what handlers share (Site), who asks (Visitor), rendering a page
    sessions.py       the session cookie and CSRF tokens (signed by server/accounts/signing.py)
    visitors.py       the middleware that knows the visitor; guards; how a form's action ends
    security.py       security headers; the check every form post passes
    errors.py         domain errors and failures as HTTP statuses and pages
    i18n.py           English and 繁體中文 (translations.py holds the catalog)
    rendering.py      Jinja2 templates (templates/) and their filters
    charts.py         server-side SVG charts
    network_watch.py  the network's state, cached, and its recent history
    metrics.py        /metrics, /healthz, /readyz
    pages/            signin, network, jobs, nodes, admin

Nothing imports this package; it calls the domain packages, as server/rpc does.
"""
