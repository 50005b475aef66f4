"""HiveMindServer: one process holding the gRPC server, its servicers and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc

from common.network import is_loopback
from proto.hivemind.v1 import (
    account_pb2_grpc,
    admin_pb2_grpc,
    artifact_pb2_grpc,
    auth_pb2_grpc,
    job_pb2_grpc,
    node_pb2_grpc,
)
from server.accounts.revocation import UserStates
from server.accounts.signing import load_or_create_key
from server.accounts.tokens import AccessTokenSigner
from server.accounts.users import UnknownNameFailures
from server.config import ServerSettings
from server.context import ServerContext
from server.jobs.artifacts import ArtifactStore
from server.jobs.events import JobEvents
from server.rpc.account_servicer import AccountServicer
from server.rpc.admin_servicer import AdminServicer
from server.rpc.artifact_servicer import ArtifactServicer
from server.rpc.auth import AuthInterceptor, NodeCredentialCache
from server.rpc.auth_servicer import AuthServicer
from server.rpc.job_servicer import JobServicer
from server.rpc.limits import RequestLimitsInterceptor
from server.rpc.node_servicer import NodeServicer
from server.runtimes.approved import ensure_default_runtime
from server.store.db import Database
from server.sweeper import run_sweeper
from server.torrent import Seeder

log = logging.getLogger("hivemind.server")

MAX_RECEIVE_BYTES = 4 * 1024 * 1024  # uploads arrive in chunks well below this
MAX_SEND_BYTES = 16 * 1024 * 1024


def check_transport(host: str, port: int, tls: bool, insecure: bool) -> None:
    """Refuses plaintext where other machines could listen in: passwords, tokens and node
    secrets would cross the network readable by anyone on the path."""
    if tls or insecure or is_loopback(host):
        return
    raise ValueError(
        f"refusing to serve plaintext on {host}:{port}: passwords and tokens would cross the"
        " network unencrypted; give --tls-cert and --tls-key, or listen on 127.0.0.1, or pass"
        " --insecure if this network is trusted (e.g. behind a TLS-terminating proxy)"
    )


def display_address(host: str, port: int) -> str:
    """Where a local client dials: a wildcard bind is reached through loopback."""
    if host in ("", "0.0.0.0", "127.0.0.1", "localhost"):
        return f"127.0.0.1:{port}"
    if host in ("::", "[::]", "::1", "[::1]"):
        return f"[::1]:{port}"
    return f"{host}:{port}"


def split_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:50051' -> ('127.0.0.1', 50051); '[::1]:0' -> ('[::1]', 0)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not host or int(port) > 65535:
        raise ValueError(f"invalid listen address {listen!r} (use HOST:PORT, e.g. 127.0.0.1:50051)")
    return host, int(port)


def open_context(settings: ServerSettings) -> ServerContext:
    """The database (created or upgraded to this code's schema) and the services around it."""
    db = Database.for_data_dir(settings.data_dir, settings.database_url or None)
    db.create_schema()
    # token.key is created now (mode 0600), not on the first login.
    token_signer = AccessTokenSigner(
        load_or_create_key(settings.data_dir), settings.access_token_ttl_s
    )
    return ServerContext(
        settings=settings,
        db=db,
        artifacts=ArtifactStore(settings, db),
        events=JobEvents(),
        token_signer=token_signer,
        signing_keys=token_signer.keys,
        unknown_name_failures=UnknownNameFailures(),
        user_states=UserStates(settings.user_state_cache_s),
        node_credentials=NodeCredentialCache(),
        spot_check_rng=random.SystemRandom(),
    )


class HiveMindServer:
    """Build from settings, `await start()`, then `await wait()` or `await stop()`."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.host, self._requested_port = split_listen(settings.listen)
        self._credentials = self._tls_credentials()  # bad TLS files fail before any state
        check_transport(
            self.host, self._requested_port, self._credentials is not None, settings.insecure
        )
        self.ctx = open_context(settings)
        self.ctx.db.transaction_sync(ensure_default_runtime)
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._stop_event = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopped = False

    @property
    def address(self) -> str:
        return display_address(self.host, self.port)

    def _build(self) -> grpc.aio.Server:
        server = grpc.aio.server(
            # Auth first: a caller without a credential learns nothing about field limits.
            interceptors=[AuthInterceptor(self.ctx), RequestLimitsInterceptor()],
            options=[
                ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
                ("grpc.max_send_message_length", MAX_SEND_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(self.ctx), server)
        account_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(self.ctx), server)
        admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(self.ctx), server)
        node_pb2_grpc.add_NodeServiceServicer_to_server(NodeServicer(self.ctx), server)
        job_pb2_grpc.add_JobServiceServicer_to_server(JobServicer(self.ctx), server)
        artifact_pb2_grpc.add_ArtifactServiceServicer_to_server(ArtifactServicer(self.ctx), server)
        return server

    def _tls_credentials(self) -> grpc.ServerCredentials | None:
        cert, key = self.settings.tls_cert_file, self.settings.tls_key_file
        if not cert and not key:
            return None
        if not (cert and key):
            raise ValueError("TLS needs both tls_cert_file and tls_key_file")
        try:
            pair = (Path(key).read_bytes(), Path(cert).read_bytes())
        except OSError as error:
            raise ValueError(f"cannot read TLS files: {error}") from None
        return grpc.ssl_server_credentials([pair])

    async def start(self) -> None:
        self._server = self._build()
        bind = f"{self.host}:{self._requested_port}"
        credentials = self._credentials
        if credentials is None and not is_loopback(self.host):
            log.warning(
                "plaintext on a non-loopback address=%s (--insecure): tokens travel"
                " unencrypted; set tls_cert_file and tls_key_file",
                bind,
            )
        try:
            if credentials is not None:
                self.port = self._server.add_secure_port(bind, credentials)
            else:
                self.port = self._server.add_insecure_port(bind)
        except RuntimeError:  # grpc reports a failed bind this way
            self.port = 0
        if not self.port:
            raise OSError(f"cannot listen on {bind} (address in use or not local)")
        if self.settings.bittorrent:
            await self._start_seeder()  # before the first GetTorrent can arrive
        await self._server.start()
        self._spawn("sweeper", run_sweeper(self.ctx, self._stop_event))
        log.info(
            "listening address=%s tls=%s data_dir=%s",
            self.address,
            "on" if credentials else "off",
            self.settings.data_dir,
        )

    async def _start_seeder(self) -> None:
        """The BitTorrent seeder; without it every transfer goes over gRPC."""
        seeder = Seeder(self.settings, self.ctx.db, self.ctx.artifacts.path_for)
        try:
            self.ctx.seeder = await seeder.start()
        except Exception as error:
            log.warning("bittorrent seeder not started, gRPC only: %s", error)

    def _spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro, name=f"hivemind-{name}")
        task.add_done_callback(self._background_done)
        self._tasks.append(task)

    @staticmethod
    def _background_done(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s died", task.get_name(), exc_info=task.exception())

    async def wait(self) -> None:
        """Until the server stops."""
        if self._server is not None:
            await self._server.wait_for_termination()

    async def stop(self, grace: float | None = 2.0) -> None:
        """Stops taking calls, lets running ones finish within `grace` s, ends background
        tasks and closes the database. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._stop_event.set()
        if self._server is not None:
            await self._server.stop(grace)
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.ctx.seeder is not None:
            with contextlib.suppress(Exception):
                await self.ctx.seeder.close()
        await asyncio.to_thread(self.ctx.db.close)
        log.info("stopped address=%s", self.address)
