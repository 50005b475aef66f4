"""The network page, for everyone signed in: nodes online by state, the cores, memory and
GPUs they offer, jobs running, and tasks per second and queue depth over the last hours. Its
live part is fetched again every few seconds (static/live.js); both read NetworkWatch, so a
room full of open pages costs one database read per few seconds."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from markupsafe import Markup

from server.nodes.stats import NODE_STATES
from server.web.charts import bar_chart, line_chart
from server.web.i18n import Translator
from server.web.network_watch import Sample
from server.web.site import page, site_of, visitor_of
from server.web.visitors import signed_in

# How much time the history charts show: the shortest of these that covers the history this
# server has watched (it starts a new one at each start), at most six hours.
SPANS_S = (60, 120, 300, 600, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600)
NODE_STATE_WORDS = {
    "busy": "busy",
    "idle": "idle",
    "paused": "paused",
    "offline": "offline",
    "banned": "banned",
}


def chart_span(samples: list[Sample], now: float) -> float:
    watched = now - samples[0].at if samples else 0.0
    return float(next((span for span in SPANS_S if span >= watched), SPANS_S[-1]))


def _time_axis(translator: Translator, now: float, span: float) -> list[tuple[float, str]]:
    def before(seconds: float) -> str:
        if seconds >= 3600:
            return str(translator.gettext("%(n)s h ago", n=f"{seconds / 3600:g}"))
        if seconds >= 60:
            return str(translator.gettext("%(n)s min ago", n=f"{seconds / 60:g}"))
        return str(translator.gettext("%(n)s s ago", n=f"{seconds:g}"))

    return [
        (now - span, before(span)),
        (now - span / 2, before(span / 2)),
        (now, str(translator.gettext("now"))),
    ]


def history_charts(
    translator: Translator, samples: list[Sample], now: float
) -> tuple[Markup, Markup]:
    """Tasks finished per second and tasks waiting, over the time this server has watched
    (at most the last six hours)."""
    span = chart_span(samples, now)
    axis = _time_axis(translator, now, span)
    throughput = line_chart(
        [(s.at, s.tasks_per_s) for s in samples[1:]],
        title=str(translator.gettext("Tasks finished per second")),
        start=now - span,
        end=now,
        x_labels=axis,
        css_class="series-throughput",
    )
    queue = line_chart(
        [(s.at, float(s.queue_depth)) for s in samples],
        title=str(translator.gettext("Tasks waiting for a node")),
        start=now - span,
        end=now,
        x_labels=axis,
        css_class="series-queue",
    )
    return throughput, queue


async def _values(request: web.Request) -> dict[str, Any]:
    site = site_of(request)
    translator = visitor_of(request).translator
    snapshot = await site.watch.current()
    state = snapshot.state
    now = time.time()
    throughput, queue = history_charts(translator, site.watch.recent(now), now)
    node_bars = bar_chart(
        [
            (str(translator.gettext(NODE_STATE_WORDS[name])), float(state.nodes_by_state[name]))
            for name in NODE_STATES
        ],
        title=str(translator.gettext("Nodes by state")),
        css_class="series-nodes",
    )
    return {
        "snapshot": snapshot,
        "state": state,
        "node_states": NODE_STATES,
        "throughput_chart": throughput,
        "queue_chart": queue,
        "nodes_chart": node_bars,
    }


@signed_in
async def network(request: web.Request) -> web.Response:
    return page(request, "network.html", **await _values(request))


@signed_in
async def network_live(request: web.Request) -> web.Response:
    return page(request, "network_live.html", **await _values(request))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/network", network)
    router.add_get("/network/live", network_live)
