"""Users of the server under test: the password every test user has, and a registered user's
session (`register_user`, what the `user_session` fixture calls)."""

from __future__ import annotations

from pathlib import Path

import grpc

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc
from server.config import ServerSettings

PASSWORD = "correct horse battery"


class UserSession(tuple):
    """Unpacks as (access_token, metadata); also carries the rest of the session."""

    user_id: str
    username: str
    password: str
    refresh_token: str

    def __new__(cls, session: auth_pb2.Session, password: str) -> UserSession:
        metadata = (("authorization", f"Bearer {session.access_token}"),)
        self = super().__new__(cls, (session.access_token, metadata))
        self.user_id = session.user.user_id
        self.username = session.user.username
        self.password = password
        self.refresh_token = session.refresh_token
        return self

    @property
    def access_token(self) -> str:
        return self[0]

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return self[1]


async def register_user(
    address: str,
    username: str,
    password: str = PASSWORD,
    *,
    admin: bool = False,
    data_dir: Path | None = None,
) -> UserSession:
    """Registers `username` over gRPC. With admin=True, grants the admin role in the data
    dir's database (as `hivemind-server admin set-admin` does) and logs in again."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        session = await stub.Register(
            auth_pb2.RegisterRequest(username=username, password=password)
        )
        if admin:
            if data_dir is None:
                raise ValueError("admin=True needs the server's data_dir")
            from server.accounts.users import set_admin
            from server.store.db import Database

            # The data dir's own database (server.toml may name PostgreSQL), as the CLI does.
            db = Database.for_data_dir(data_dir, ServerSettings.load(data_dir).database_url or None)
            try:
                db.transaction_sync(set_admin, username, True)
            finally:
                db.close()
            session = await stub.Login(auth_pb2.LoginRequest(username=username, password=password))
    return UserSession(session, password)
