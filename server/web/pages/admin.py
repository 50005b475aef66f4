"""What an admin does, on pages (each also a `hivemind-server admin` command): every job,
every node (owner, trust, error rate, last seen; ban and unban), every user (balance and
starter credit apart, grant, ban and unban),
the ledger audit and clawback shortfalls, the approved runtimes."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from sqlalchemy import Connection

from common.units import format_ucpt, parse_cpt
from server.accounts import users
from server.errors import FailedPrecondition, InvalidArgument
from server.jobs import queries
from server.ledger import audit, clawbacks, transfers
from server.ledger.starter import starter_balance
from server.nodes import listing
from server.nodes import stats as network
from server.runtimes import approved as runtimes
from server.validation import bans
from server.web.pages.jobs import JOBS_PER_PAGE
from server.web.site import page, site_of, visitor_of
from server.web.visitors import act, admin_only, redirect

USERS_PER_PAGE = 100


@admin_only
async def admin_home(request: web.Request) -> web.Response:
    return redirect("/admin/jobs")


@admin_only
async def all_jobs(request: web.Request) -> web.Response:
    token = request.query.get("page", "")
    listing_ = await queries.list_my_jobs(
        site_of(request).ctx, visitor_of(request).caller, JOBS_PER_PAGE, token, True
    )
    return page(
        request,
        "admin_jobs.html",
        jobs=listing_.jobs,
        next_page=listing_.next_page_token,
        page_token=token,
    )


@admin_only
async def all_nodes(request: web.Request) -> web.Response:
    ctx = site_of(request).ctx
    nodes = await listing.list_nodes_now(ctx)  # with Redis, the last beats kept there
    return page(
        request, "admin_nodes.html", nodes=nodes, trust_threshold=ctx.settings.trust_threshold
    )


@admin_only
async def ban_node(request: web.Request) -> web.Response:
    node_id = request.match_info["node_id"]
    form = await request.post()
    translator = visitor_of(request).translator

    async def ban() -> str:
        node = await bans.ban_node_now(site_of(request).ctx, node_id, str(form.get("reason", "")))
        return str(translator.gettext("Node %(name)s is banned.", name=node.name))

    return await act(request, "/admin/nodes", ban)


@admin_only
async def unban_node(request: web.Request) -> web.Response:
    node_id = request.match_info["node_id"]
    translator = visitor_of(request).translator

    async def unban() -> str:
        node = await bans.unban_node_now(site_of(request).ctx, node_id)
        return str(translator.gettext("Node %(name)s may work again.", name=node.name))

    return await act(request, "/admin/nodes", unban)


@admin_only
async def all_users(request: web.Request) -> web.Response:
    text = request.query.get("from", "0")
    offset = int(text) if text.isdigit() and len(text) <= 9 else 0

    def read(conn: Connection) -> list[tuple[users.UserRecord, int, int]]:
        found = users.list_users(conn, offset, USERS_PER_PAGE + 1)
        return [(user, cpt, starter_balance(conn, user.user_id)) for user, cpt in found]

    rows = await site_of(request).ctx.db.run(read)
    return page(
        request,
        "admin_users.html",
        rows=rows[:USERS_PER_PAGE],
        offset=offset,
        more=len(rows) > USERS_PER_PAGE,
        per_page=USERS_PER_PAGE,
        # A grant form posted twice (a double click, a reload) grants once.
        grant_key=secrets.token_urlsafe(12),
    )


@admin_only
async def grant(request: web.Request) -> web.Response:
    username = request.match_info["username"]
    form = await request.post()
    translator = visitor_of(request).translator

    async def grant_now() -> str:
        try:
            amount = parse_cpt(str(form.get("amount", "")))
        except ValueError as error:
            raise InvalidArgument(str(error)) from None
        key = str(form.get("idempotency_key", ""))[:100]

        def run(conn: Connection) -> transfers.Movement:
            return transfers.admin_grant(
                conn,
                users.find_user(conn, username).user_id,
                amount,
                idempotency_key=f"web:{key}" if key else "",
                memo=str(form.get("memo", "")) or "admin grant",
            )

        moved = await site_of(request).ctx.db.run(run)
        return str(
            translator.gettext(
                "Granted %(amount)s CPT to %(name)s; balance now %(balance)s CPT.",
                amount=format_ucpt(amount),
                name=username,
                balance=format_ucpt(moved.balance_ucpt),
            )
        )

    return await act(request, "/admin/users", grant_now)


@admin_only
async def ban_user(request: web.Request) -> web.Response:
    username = request.match_info["username"]
    form = await request.post()
    translator = visitor_of(request).translator

    async def ban() -> str:
        reason = str(form.get("reason", ""))
        me = visitor_of(request).user  # banning oneself would lock one out of these pages
        if me is not None and username.strip().lower() == me.username.lower():
            raise FailedPrecondition("you cannot ban your own account")
        user = await users.ban_user(site_of(request).ctx, username, True, reason)
        return str(translator.gettext("User %(name)s is banned.", name=user.username))

    return await act(request, "/admin/users", ban)


@admin_only
async def unban_user(request: web.Request) -> web.Response:
    username = request.match_info["username"]
    translator = visitor_of(request).translator

    async def unban() -> str:
        user = await users.ban_user(site_of(request).ctx, username, False)
        return str(translator.gettext("User %(name)s may sign in again.", name=user.username))

    return await act(request, "/admin/users", unban)


@admin_only
async def ledger(request: web.Request) -> web.Response:
    def read(conn: Connection) -> dict[str, Any]:
        return {
            "report": audit.check_ledger(conn),
            "stats": network.network_stats(conn),
            "shortfalls": clawbacks.list_shortfalls(conn),
        }

    return page(request, "admin_ledger.html", **await site_of(request).ctx.db.run(read))


@admin_only
async def runtime_list(request: web.Request) -> web.Response:
    found = await site_of(request).ctx.db.run(runtimes.list_runtimes)
    return page(request, "admin_runtimes.html", runtimes=found)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/admin", admin_home)
    router.add_get("/admin/jobs", all_jobs)
    router.add_get("/admin/nodes", all_nodes)
    router.add_post("/admin/nodes/{node_id}/ban", ban_node)
    router.add_post("/admin/nodes/{node_id}/unban", unban_node)
    router.add_get("/admin/users", all_users)
    router.add_post("/admin/users/{username}/grant", grant)
    router.add_post("/admin/users/{username}/ban", ban_user)
    router.add_post("/admin/users/{username}/unban", unban_user)
    router.add_get("/admin/ledger", ledger)
    router.add_get("/admin/runtimes", runtime_list)
