"""AuthService: registration, login, token refresh, logout, whoami, password change."""

from __future__ import annotations

import logging

from grpc.aio import ServicerContext

from common.network import client_address
from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc, common_pb2
from server.accounts import sessions, users
from server.context import ServerContext
from server.rpc.auth import principal_of, require_user
from server.rpc.converters import session_to_proto, user_to_proto
from server.rpc.errors import maps_domain_errors

log = logging.getLogger("hivemind.auth")


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    @maps_domain_errors
    async def Register(
        self, request: auth_pb2.RegisterRequest, context: ServicerContext
    ) -> auth_pb2.Session:
        address = client_address(context.peer())
        session = await sessions.register(self.ctx, request.username, request.password, address)
        log.info("registered user=%s user_id=%s", session.user.username, session.user.user_id)
        return session_to_proto(session)

    @maps_domain_errors
    async def Login(
        self, request: auth_pb2.LoginRequest, context: ServicerContext
    ) -> auth_pb2.Session:
        session = await sessions.login(self.ctx, request.username, request.password)
        log.info("login user=%s", session.user.username)
        return session_to_proto(session)

    @maps_domain_errors
    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: ServicerContext
    ) -> auth_pb2.Session:
        return session_to_proto(await sessions.refresh(self.ctx, request.refresh_token))

    @maps_domain_errors
    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: ServicerContext
    ) -> auth_pb2.LogoutResponse:
        caller = require_user(context)
        await sessions.logout(self.ctx, caller.user_id, request.refresh_token)
        log.info("logout user=%s", caller.username)
        return auth_pb2.LogoutResponse()

    @maps_domain_errors
    async def WhoAmI(
        self, request: auth_pb2.WhoAmIRequest, context: ServicerContext
    ) -> common_pb2.User:
        caller = principal_of(context)  # a node asking gets its owner
        return user_to_proto(await self.ctx.db.run(users.get_user, caller.user_id))

    @maps_domain_errors
    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: ServicerContext
    ) -> auth_pb2.ChangePasswordResponse:
        caller = require_user(context)
        await users.change_password(
            self.ctx, caller.user_id, request.old_password, request.new_password
        )
        log.info("password changed user=%s", caller.username)
        return auth_pb2.ChangePasswordResponse()
