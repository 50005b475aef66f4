"""A contributor's nodes and earnings: each node's state and trust, CPT earned per day, and
the latest payouts (the same reads as the desktop app's Earnings tab)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Connection

from common.units import UCPT_PER_CPT
from server.ledger import statements
from server.nodes import listing
from server.web.charts import bar_chart
from server.web.site import page, site_of, visitor_of
from server.web.visitors import signed_in

EARNINGS_DAYS = 30


@signed_in
async def my_nodes(request: web.Request) -> web.Response:
    visitor = visitor_of(request)
    user_id = visitor.caller.user_id

    def read(conn: Connection) -> tuple[list[listing.NodeView], statements.EarningsView]:
        return (
            listing.list_nodes(conn, owner_id=user_id),
            statements.earnings(conn, user_id, EARNINGS_DAYS),
        )

    nodes, earnings = await site_of(request).ctx.db.run(read)
    chart = bar_chart(
        [(day.day[5:], day.amount_ucpt / UCPT_PER_CPT) for day in earnings.days],
        title=str(visitor.translator.gettext("CPT earned per day")),
        css_class="series-earnings",
        label_every=5,
        width=1100,
        height=200,
    )
    return page(
        request,
        "nodes.html",
        nodes=nodes,
        earnings=earnings,
        payouts=earnings.payouts[:50],
        earnings_chart=chart,
        trust_threshold=site_of(request).ctx.settings.trust_threshold,
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/nodes", my_nodes)
