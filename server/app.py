"""HiveMindServer: one process holding the gRPC server, its servicers and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health

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
from server.config import DEFAULT_HTTP_LISTEN, ServerSettings
from server.context import ServerContext
from server.ids import new_id
from server.jobs.artifacts import ArtifactStore
from server.jobs.events import JobEvents, RedisJobEvents
from server.nodes.presence import HotPresence
from server.nodes.registry import beat_batches
from server.rpc.account_servicer import AccountServicer
from server.rpc.admin_servicer import AdminServicer
from server.rpc.artifact_servicer import ArtifactServicer
from server.rpc.auth import (
    NODE_CREDENTIAL_CACHE_S,
    NODE_CREDENTIAL_CACHE_WITH_REDIS_S,
    AuthInterceptor,
    NodeCredentialCache,
)
from server.rpc.auth_servicer import AuthServicer
from server.rpc.budgets import BudgetLimits, RequestBudgetInterceptor, RequestBudgets
from server.rpc.forwarded import ForwardedPeerInterceptor, parse_trusted_proxies
from server.rpc.job_servicer import JobServicer
from server.rpc.limits import RequestLimitsInterceptor
from server.rpc.metrics import MetricsInterceptor
from server.rpc.node_servicer import NodeServicer
from server.rpc.replicas import ReplicaMesh
from server.rpc.standard import add_standard_services, serving
from server.runtimes.approved import (
    default_runtime,
    ensure_default_runtime,
    is_full_image_id,
    is_pinned,
    local_image_id,
    pin_default_runtime,
)
from server.store.db import Database
from server.store.invalidation import NODE, USER, Invalidations, RedisInvalidations
from server.store.redis_link import RedisLink
from server.sweeper import run_sweeper
from server.torrent import Seeder
from server.web.dashboard import Dashboard

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


def http_address(settings: ServerSettings) -> tuple[str, int, bool] | None:
    """Where the dashboard listens: (host, port, required), or None when it is off.
    `required` is False for "auto": a port another program holds then only costs a warning."""
    listen = settings.http_listen.strip().lower()
    if listen in ("off", "none", ""):
        return None
    if listen == "auto":
        return (*split_listen(DEFAULT_HTTP_LISTEN), False)
    try:
        return (*split_listen(settings.http_listen.strip()), True)
    except ValueError:
        raise ValueError(
            f"invalid http_listen {settings.http_listen!r} (use HOST:PORT, auto or off)"
        ) from None


def open_context(settings: ServerSettings) -> ServerContext:
    """The database (created or upgraded to this code's schema) and the services around it:
    in this process alone, or with `redis_url` shared with the other replicas through Redis."""
    db = Database.for_data_dir(settings.data_dir, settings.database_url or None)
    db.create_schema()
    # token.key is created now (mode 0600), not on the first login.
    token_signer = AccessTokenSigner(
        load_or_create_key(settings.data_dir), settings.access_token_ttl_s
    )
    link = replicas = presence = None
    invalidations: Invalidations = Invalidations()
    events: JobEvents = JobEvents()
    if settings.redis_url:
        link = RedisLink(settings.redis_url, settings.redis_namespace, new_id("replica"))
        invalidations = RedisInvalidations(link)
        events = RedisJobEvents(link)
        presence = HotPresence(link, db, settings)
        replicas = ReplicaMesh(settings, link, token_signer.keys, db)
    # With Redis, a rotation or ban reaches every replica's cache at once, and a gap clears
    # it: entries may live longer (fewer reads per heartbeat). Without, 15 s bounds how long
    # another process's change goes unseen.
    node_credentials = NodeCredentialCache(
        NODE_CREDENTIAL_CACHE_WITH_REDIS_S if link is not None else NODE_CREDENTIAL_CACHE_S
    )
    invalidations.listen(NODE, node_credentials.forget, node_credentials.clear)
    user_states = UserStates(settings.user_state_cache_s)
    invalidations.listen(USER, node_credentials.forget_owner, node_credentials.clear)
    invalidations.listen(USER, user_states.forget, user_states.clear)
    return ServerContext(
        settings=settings,
        db=db,
        artifacts=ArtifactStore(settings, db, peers=replicas),
        events=events,
        token_signer=token_signer,
        signing_keys=token_signer.keys,
        unknown_name_failures=UnknownNameFailures(),
        user_states=user_states,
        node_credentials=node_credentials,
        spot_check_rng=random.SystemRandom(),
        invalidations=invalidations,
        beats=beat_batches(db),
        redis=link,
        presence=presence,
        replicas=replicas,
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
        self._trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
        self._http = http_address(settings)
        self._http_tls = self._web_tls_context() if self._http else None
        if self._http is not None:
            try:
                check_transport(
                    self._http[0], self._http[1], self._http_tls is not None, settings.insecure
                )
            except ValueError as error:
                raise ValueError(f"web dashboard (http_listen): {error}") from None
        configured = settings.default_runtime_image_id.strip().lower()
        if configured and not is_full_image_id(configured):
            raise ValueError(
                f"default_runtime_image_id {configured!r} is not a full image id"
                " (sha256:<64 hex>, as `docker image inspect --format '{{.Id}}'` prints)"
            )
        self.ctx = open_context(settings)
        self.ctx.db.transaction_sync(ensure_default_runtime)
        self.budgets = RequestBudgets(BudgetLimits.from_settings(settings))
        self.port = 0
        self.http_port = 0  # the dashboard's; 0 while it is not serving
        self.dashboard: Dashboard | None = None
        self._dashboard = (
            Dashboard(self.ctx, secure=self._http_tls is not None, serving=lambda: self.serving)
            if self._http is not None
            else None
        )
        self._server: grpc.aio.Server | None = None
        self._stop_event = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopped = False
        self._health: health.aio.HealthServicer | None = None  # set when built

    @property
    def address(self) -> str:
        return display_address(self.host, self.port)

    @property
    def http_url(self) -> str:
        """The dashboard's address for a browser on this machine; "" when it is off."""
        if not self.http_port or self._http is None:
            return ""
        scheme = "https" if self._http_tls is not None else "http"
        return f"{scheme}://{display_address(self._http[0], self.http_port)}"

    @property
    def serving(self) -> bool:
        return self._server is not None and not self._stopped

    def _build(self) -> grpc.aio.Server:
        server = grpc.aio.server(
            # Metrics outermost, so refused calls count too; then auth: a caller without a
            # credential learns nothing about field limits; then the caller's budget, so even
            # refused requests are charged to them.
            interceptors=[
                # First, so every later piece sees the client behind a trusted proxy.
                *(
                    [ForwardedPeerInterceptor(self._trusted_proxies)]
                    if self._trusted_proxies
                    else []
                ),
                MetricsInterceptor(),
                AuthInterceptor(self.ctx),
                RequestBudgetInterceptor(self.budgets),
                RequestLimitsInterceptor(),
            ],
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
        self._health = add_standard_services(server)
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

    def _web_tls_context(self) -> ssl.SSLContext | None:
        """The dashboard's TLS: the server's certificate, as gRPC uses it."""
        if self._credentials is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.settings.tls_cert_file, self.settings.tls_key_file)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"cannot use the TLS files for the dashboard: {error}") from None
        return context

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
        self.ctx.events.bind(asyncio.get_running_loop())
        if self.ctx.redis is not None:
            await self.ctx.redis.start()
        await asyncio.to_thread(self._pin_default_runtime)
        if self.settings.bittorrent:
            await self._start_seeder()  # before the first GetTorrent can arrive
        if self.ctx.replicas is not None:
            await self.ctx.replicas.start(self.ctx.artifacts, self.ctx.seeder, self.port)
        await self._server.start()
        await serving(self._health)
        self._spawn("sweeper", run_sweeper(self.ctx, self._stop_event))
        if self._dashboard is not None and self._http is not None:
            await self._start_dashboard(self._dashboard, *self._http)
        log.info(
            "listening address=%s tls=%s data_dir=%s",
            self.address,
            "on" if credentials else "off",
            self.settings.data_dir,
        )

    async def _start_dashboard(
        self, dashboard: Dashboard, host: str, port: int, required: bool
    ) -> None:
        try:
            self.http_port = await dashboard.start(host, port, self._http_tls)
        except OSError as error:
            if required:
                await self.stop(grace=0)
                raise OSError(f"web dashboard cannot listen on {host}:{port}: {error}") from None
            log.warning(
                "web dashboard not started: %s:%d is taken (%s); set http_listen to another"
                " HOST:PORT, or to off",
                host,
                port,
                error.strerror or error,
            )
            return
        self.dashboard = dashboard
        log.info("web dashboard url=%s", self.http_url)

    def _pin_default_runtime(self) -> None:
        """Pins the default runtime by image id if it is still a tag (blocking: a thread)."""
        record = self.ctx.db.transaction_sync(default_runtime)
        if record is None or is_pinned(record):
            return
        image_id = self.settings.default_runtime_image_id.strip() or local_image_id(record.image)
        if image_id and self.ctx.db.transaction_sync(pin_default_runtime, image_id):
            log.info("default runtime pinned runtime=%s image_id=%s", record.name, image_id)
            return
        log.warning(
            "default runtime %s is the tag %s, not pinned: workers run whatever their Docker"
            " calls it; set default_runtime_image_id, build the image here (make"
            " runtime-image), or pin it with `hivemind-server admin runtime add`",
            record.name,
            record.image,
        )

    async def _start_seeder(self) -> None:
        """The BitTorrent seeder; without it every transfer goes over gRPC."""
        replicas = self.ctx.replicas
        seeder = Seeder(
            self.settings,
            self.ctx.db,
            self.ctx.artifacts.path_for,
            on_new_torrent=replicas.torrent_made if replicas is not None else None,
        )
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
        if self._health is not None:  # probes see the replica go before its calls do
            await self._health.enter_graceful_shutdown()
        if self.dashboard is not None:
            await self.dashboard.stop()
        if self._server is not None:
            await self._server.stop(grace)
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.ctx.replicas is not None:
            with contextlib.suppress(Exception):
                await self.ctx.replicas.close()
        if self.ctx.seeder is not None:
            with contextlib.suppress(Exception):
                await self.ctx.seeder.close()
        if self.ctx.redis is not None:
            with contextlib.suppress(Exception):
                await self.ctx.redis.close()
        await asyncio.to_thread(self.ctx.db.close)
        log.info("stopped address=%s", self.address)
