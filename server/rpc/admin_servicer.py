"""AdminService: users, grants, nodes, runtimes and stats. Every call needs the admin role."""

from __future__ import annotations

import logging

from grpc.aio import ServicerContext

from proto.hivemind.v1 import admin_pb2, admin_pb2_grpc, common_pb2
from server.accounts import users
from server.context import ServerContext
from server.errors import FailedPrecondition, InvalidArgument
from server.ledger import transfers
from server.nodes import listing
from server.nodes import stats as network
from server.rpc.auth import require_admin
from server.rpc.converters import (
    decode_page_token,
    encode_page_token,
    node_to_proto,
    page_size,
    runtime_to_proto,
    user_to_proto,
)
from server.rpc.errors import maps_domain_errors
from server.runtimes import approved as runtimes
from server.validation import bans

log = logging.getLogger("hivemind.admin")


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    @maps_domain_errors
    async def ListUsers(
        self, request: admin_pb2.ListUsersRequest, context: ServicerContext
    ) -> admin_pb2.ListUsersResponse:
        require_admin(context)
        limit = page_size(request.page)
        cursor = decode_page_token(request.page.page_token)
        if cursor and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
            raise InvalidArgument("invalid page token (use the one the previous page returned)")
        offset = int(cursor or 0)
        rows = await self.ctx.db.run(users.list_users, offset, limit + 1)
        more = len(rows) > limit
        return admin_pb2.ListUsersResponse(
            users=[
                admin_pb2.UserInfo(user=user_to_proto(user), balance_ucpt=balance)
                for user, balance in rows[:limit]
            ],
            next_page_token=encode_page_token(str(offset + limit) if more else ""),
        )

    @maps_domain_errors
    async def Grant(
        self, request: admin_pb2.GrantRequest, context: ServicerContext
    ) -> admin_pb2.GrantResponse:
        caller = require_admin(context)
        moved = await self.ctx.db.run(
            lambda conn: transfers.admin_grant(
                conn,
                users.find_user(conn, request.username).user_id,
                request.amount_ucpt,
                idempotency_key=request.idempotency_key,
                memo=request.memo,
            )
        )
        if moved.created:
            log.info(
                "grant user=%s to=%s amount_ucpt=%d tx_id=%s",
                caller.username,
                request.username,
                request.amount_ucpt,
                moved.tx_id,
            )
        return admin_pb2.GrantResponse(tx_id=moved.tx_id, balance_ucpt=moved.balance_ucpt)

    @maps_domain_errors
    async def SetAdmin(
        self, request: admin_pb2.SetAdminRequest, context: ServicerContext
    ) -> common_pb2.User:
        caller = require_admin(context)
        if not request.is_admin and request.username.strip().lower() == caller.username.lower():
            raise FailedPrecondition("you cannot remove your own admin role")
        user = await users.change_role(self.ctx, request.username, request.is_admin)
        log.info(
            "set-admin user=%s target=%s is_admin=%s", caller.username, user.username, user.is_admin
        )
        return user_to_proto(user)

    @maps_domain_errors
    async def ListNodes(
        self, request: admin_pb2.ListNodesRequest, context: ServicerContext
    ) -> admin_pb2.ListNodesResponse:
        require_admin(context)
        nodes = await listing.list_nodes_now(self.ctx)
        return admin_pb2.ListNodesResponse(nodes=[node_to_proto(n) for n in nodes])

    @maps_domain_errors
    async def BanNode(
        self, request: admin_pb2.BanNodeRequest, context: ServicerContext
    ) -> admin_pb2.NodeInfo:
        caller = require_admin(context)
        node = await bans.ban_node_now(self.ctx, request.node_id, request.reason)
        log.info("ban user=%s node=%s reason=%s", caller.username, node.node_id, node.ban_reason)
        return node_to_proto(node)

    @maps_domain_errors
    async def ListRuntimes(
        self, request: admin_pb2.ListRuntimesRequest, context: ServicerContext
    ) -> admin_pb2.ListRuntimesResponse:
        require_admin(context)
        found = await self.ctx.db.run(runtimes.list_runtimes)
        return admin_pb2.ListRuntimesResponse(runtimes=[runtime_to_proto(r) for r in found])

    @maps_domain_errors
    async def AddRuntime(
        self, request: admin_pb2.AddRuntimeRequest, context: ServicerContext
    ) -> admin_pb2.Runtime:
        caller = require_admin(context)
        runtime = await self.ctx.db.run(
            runtimes.add_runtime,
            request.name,
            request.image,
            request.image_id,
            request.archive_digest,
        )
        log.info("runtime user=%s name=%s image=%s", caller.username, runtime.name, runtime.image)
        return runtime_to_proto(runtime)

    @maps_domain_errors
    async def GetStats(
        self, request: admin_pb2.GetStatsRequest, context: ServicerContext
    ) -> admin_pb2.Stats:
        require_admin(context)
        stats = await self.ctx.db.run(network.network_stats)
        return admin_pb2.Stats(
            users=stats.users,
            nodes_online=stats.nodes_online,
            jobs_active=stats.jobs_active,
            tasks_pending=stats.tasks_pending,
            tasks_running=stats.tasks_running,
            total_granted_ucpt=stats.total_granted_ucpt,
            total_in_accounts_ucpt=stats.total_in_accounts_ucpt,
            escrow_ucpt=stats.escrow_ucpt,
        )
