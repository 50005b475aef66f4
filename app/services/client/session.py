"""The client's session with a HiveMind server: one gRPC channel, the user's tokens, retries.

`session.jobs.GetJob(req)` (and every other RPC of the six services) adds the bearer token,
refreshes the access token silently when it is missing, about to expire, or refused by the
server, and retries with jittered exponential backoff while the server is unreachable. Errors
come out as `ClientError(code, message)` carrying the server's own one-line message.

Runs on the caller's asyncio loop; blocking credential-store calls go to a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc

from app.services.client.channel import (  # noqa: F401 - re-exported
    ChannelRefused,
    open_channel,
    parse_server_address,
)
from app.services.client.credentials import CredentialStore, UserCredential
from app.services.client.service_proxy import Proxies
from app.services.settings import ClientSettings, SettingsStore
from proto.hivemind.v1 import (
    auth_pb2,
    common_pb2,
    node_pb2,
)

# Refresh this long before the server's expiry, so a call never races the deadline.
REFRESH_MARGIN_S = 30


# The server names the errors a client may say in its own words (server/rpc/errors.py).
ERROR_INFO_KEY = "hivemind-error-info"


class ClientError(Exception):
    """An RPC failed. `code` is a grpc.StatusCode; `message` is one line for a person (the
    server's, in English). `reason` and `details` name the error when the server did (e.g.
    "INSUFFICIENT_BALANCE" with need_ucpt and have_ucpt), so a UI can say it in its language."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        server: str = "",
        *,
        reason: str = "",
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.server = server
        self.reason = reason
        self.details = dict(details or {})

    @property
    def code_name(self) -> str:
        return self.code.name

    @classmethod
    def from_rpc(cls, error: grpc.aio.AioRpcError, server: str) -> ClientError:
        details = (error.details() or "").strip() or error.code().name.lower().replace("_", " ")
        reason, info = _error_info(error.trailing_metadata())
        return cls(error.code(), details.splitlines()[0], server, reason=reason, details=info)


def _error_info(metadata: Any) -> tuple[str, dict[str, str]]:
    """(reason, details) from a failed call's trailing metadata; ("", {}) when absent or
    malformed (an older server, a proxy's own error)."""
    for key, value in metadata or ():
        if key != ERROR_INFO_KEY:
            continue
        try:
            info = json.loads(value)
            reason = str(info.get("reason", ""))
            details = {str(k): str(v) for k, v in dict(info.get("metadata", {})).items()}
        except (ValueError, TypeError, AttributeError):
            return "", {}
        return reason, details
    return "", {}


class ClientSession:
    """One user (and optionally one node) talking to one server. `async with` or `close()`."""

    def __init__(
        self,
        settings_store: SettingsStore,
        credentials: CredentialStore | None = None,
        server: str | None = None,
        *,
        retry_attempts: int = 5,
        call_timeout_s: float | None = 30.0,
    ) -> None:
        self.settings_store = settings_store
        self.credentials = credentials
        self._fixed_server = server
        self.retry_attempts = max(1, retry_attempts)
        self.call_timeout_s = call_timeout_s
        self._channel: grpc.aio.Channel | None = None
        self._old_channels: list[grpc.aio.Channel] = []
        self._callables: dict[str, Any] = {}
        self._access_token = ""
        self._access_expires_at = 0
        self._username = ""
        self._refresh_lock: asyncio.Lock | None = None
        self._channel_settings = self._connection_settings(settings_store.settings)
        self._unsubscribe = settings_store.subscribe(self._on_settings)
        user = Proxies(self, self._user_metadata)
        self.auth, self.account, self.jobs = user.auth, user.account, user.jobs
        self.artifacts, self.nodes, self.admin = user.artifacts, user.nodes, user.admin

    # -- connection -------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return self._fixed_server or self.settings_store.settings.server

    def _connection_settings(self, s: ClientSettings) -> tuple:
        return (self._fixed_server or s.server, s.tls, s.ca_file, s.insecure)

    def _on_settings(self, settings: ClientSettings) -> None:
        # A changed server or TLS setting takes effect at the next call: new channel.
        wanted = self._connection_settings(settings)
        if wanted != self._channel_settings:
            self._channel_settings = wanted
            if self._channel is not None:
                self._old_channels.append(self._channel)
                self._channel, self._callables = None, {}
                self._access_token, self._access_expires_at = "", 0

    async def _get_channel(self) -> grpc.aio.Channel:
        if self._channel is not None:
            return self._channel
        server, tls, ca_file, insecure = self._channel_settings
        try:
            self._channel = await open_channel(server, tls, ca_file, insecure)
        except ChannelRefused as exc:
            raise ClientError(
                grpc.StatusCode.FAILED_PRECONDITION, str(exc), server, reason=exc.reason
            ) from None
        return self._channel

    async def _callable(self, kind: str, path: str, kwargs: dict[str, Any]) -> Any:
        channel = await self._get_channel()
        found = self._callables.get(path)
        if found is None:
            found = self._callables[path] = getattr(channel, kind)(path, **kwargs)
        return found

    async def close(self) -> None:
        self._unsubscribe = _unsubscribe_once(self._unsubscribe)
        channels = [*self._old_channels, *([self._channel] if self._channel else [])]
        self._channel, self._old_channels, self._callables = None, [], {}
        for channel in channels:
            await channel.close(grace=None)

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- calls ------------------------------------------------------------------------------

    async def _backoff(self, attempt: int) -> None:
        # Full jitter (0.5..1 x 0.25 s x 2^attempt, capped) so many workers do not reconnect
        # in lockstep after a server restart.
        delay = min(4.0, 0.25 * 2**attempt)
        await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def call_rpc(
        self, kind: str, path: str, kwargs: dict, auth: Callable, request: Any, timeout: Any
    ) -> Any:
        replayable = kind == "unary_unary" or callable(request) or isinstance(request, list)
        if timeout is None and kind == "unary_unary":
            timeout = self.call_timeout_s
        attempt, stale = 0, None
        while True:
            method = await self._callable(kind, path, kwargs)  # first: may refuse plaintext
            metadata = await auth(stale)
            payload = request() if callable(request) else request
            if isinstance(payload, list):
                payload = iter(payload)
            try:
                return await method(payload, metadata=metadata, timeout=timeout)
            except grpc.aio.AioRpcError as error:
                code = error.code()
                if code == grpc.StatusCode.UNAUTHENTICATED and stale is None and metadata:
                    stale = _bearer(metadata) or "-"
                    if replayable and auth == self._user_metadata:
                        continue
                retry = replayable and attempt + 1 < self.retry_attempts
                if code == grpc.StatusCode.UNAVAILABLE and retry:
                    await self._backoff(attempt)
                    attempt += 1
                    continue
                raise ClientError.from_rpc(error, self.server) from None

    async def stream_rpc(
        self, kind: str, path: str, kwargs: dict, auth: Callable, request: Any, timeout: Any
    ) -> AsyncIterator[Any]:
        attempt, stale, received = 0, None, False
        while True:
            method = await self._callable(kind, path, kwargs)  # first: may refuse plaintext
            metadata = await auth(stale)
            call = method(request, metadata=metadata, timeout=timeout)
            try:
                async for item in call:
                    received = True
                    yield item
                return
            except grpc.aio.AioRpcError as error:
                code = error.code()
                if received:
                    raise ClientError.from_rpc(error, self.server) from None
                if code == grpc.StatusCode.UNAUTHENTICATED and stale is None and metadata:
                    stale = _bearer(metadata) or "-"
                    if auth == self._user_metadata:
                        continue
                if code == grpc.StatusCode.UNAVAILABLE and attempt + 1 < self.retry_attempts:
                    await self._backoff(attempt)
                    attempt += 1
                    continue
                raise ClientError.from_rpc(error, self.server) from None
            finally:
                call.cancel()

    # -- user credentials -------------------------------------------------------------------

    async def _user_metadata(self, stale: str | None) -> tuple[tuple[str, str], ...]:
        """The bearer header; refreshes first when the token is missing, near its expiry, or
        is `stale` (the server just refused it)."""
        fresh = self._access_expires_at - REFRESH_MARGIN_S > time.time()
        if not self._access_token or not fresh or self._access_token == stale:
            await self._refresh(stale)
        return (("authorization", f"Bearer {self._access_token}"),)

    async def _refresh(self, stale: str | None) -> None:
        if self._refresh_lock is None:
            self._refresh_lock = asyncio.Lock()
        async with self._refresh_lock:
            if self._access_token and self._access_token != stale and self._token_fresh():
                return  # another call on this loop refreshed while we waited
            if self.credentials is None:
                raise self._not_logged_in()
            lock = self.credentials.refresh_lock()
            await asyncio.to_thread(lock.__enter__)
            try:
                stored = await asyncio.to_thread(self.credentials.load_user, self.server)
                if stored is None:
                    raise self._not_logged_in()
                self._username = stored.username
                # Another process sharing this home may have refreshed already.
                if (
                    stored.access_token
                    and stored.access_token != stale
                    and stored.access_expires_at - REFRESH_MARGIN_S > time.time()
                ):
                    self._access_token = stored.access_token
                    self._access_expires_at = stored.access_expires_at
                    return
                request = auth_pb2.RefreshRequest(refresh_token=stored.refresh_token)
                try:
                    session = await self.auth.Refresh(request)
                except ClientError as exc:
                    if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                        raise ClientError(
                            exc.code,
                            f"your session with {self.server} has ended ({exc.message}): "
                            "run `hivemind account login`",
                            self.server,
                            reason="SESSION_ENDED",
                        ) from None
                    raise
                await self._remember(session)
            finally:
                await asyncio.to_thread(lock.__exit__, None, None, None)

    def _token_fresh(self) -> bool:
        return self._access_expires_at - REFRESH_MARGIN_S > time.time()

    def _not_logged_in(self) -> ClientError:
        return ClientError(
            grpc.StatusCode.UNAUTHENTICATED,
            f"not logged in to {self.server}: run `hivemind account login`",
            self.server,
            reason="NOT_SIGNED_IN",
        )

    async def _remember(self, session: auth_pb2.Session) -> None:
        self._access_token = session.access_token
        self._access_expires_at = session.access_expires_at
        self._username = session.user.username
        if self.credentials is not None:
            credential = UserCredential(
                username=session.user.username,
                refresh_token=session.refresh_token,
                access_token=session.access_token,
                access_expires_at=session.access_expires_at,
            )
            await asyncio.to_thread(self.credentials.save_user, self.server, credential)

    # -- account operations -----------------------------------------------------------------

    @property
    def username(self) -> str:
        return self._username

    async def register(self, username: str, password: str) -> common_pb2.User:
        request = auth_pb2.RegisterRequest(username=username, password=password)
        session = await self.auth.Register(request)
        await self._remember(session)
        return session.user

    async def login(self, username: str, password: str) -> common_pb2.User:
        session = await self.auth.Login(auth_pb2.LoginRequest(username=username, password=password))
        await self._remember(session)
        return session.user

    async def whoami(self) -> common_pb2.User:
        user = await self.auth.WhoAmI(auth_pb2.WhoAmIRequest())
        self._username = user.username
        return user

    async def logout(self) -> bool:
        """Revokes the refresh token on the server and forgets it here. Returns False when the
        server could not be told (the local credentials are forgotten anyway)."""
        told_server = False
        if self.credentials is not None:
            try:
                # Refresh first if needed, so the token we revoke is the current one.
                await self._user_metadata(None)
                stored = await asyncio.to_thread(self.credentials.load_user, self.server)
                if stored is not None:
                    request = auth_pb2.LogoutRequest(refresh_token=stored.refresh_token)
                    await self.auth.Logout(request)
                    told_server = True
            except ClientError:
                told_server = False
            await asyncio.to_thread(self.credentials.clear_user, self.server)
        self._access_token, self._access_expires_at, self._username = "", 0, ""
        return told_server

    # -- node credentials -------------------------------------------------------------------

    def as_node(self, node_id: str, secret: str) -> Proxies:
        """Proxies that authenticate as this machine's node ("Node <id>.<secret>")."""
        header = (("authorization", f"Node {node_id}.{secret}"),)

        async def node_metadata(stale: str | None) -> tuple[tuple[str, str], ...]:
            return header

        return Proxies(self, node_metadata)

    async def rotate_node_secret(self, node_id: str, secret: str) -> str:
        """Asks the server for a new secret for this machine's node, stores it and returns
        it; the old secret stops working at once. A reply lost after the server committed
        leaves a secret nobody knows: the old one is then refused, and the owner rotates it
        with their user token (`rotate_node_secret_as_owner`), or the worker registers the
        machine again."""
        request = node_pb2.RotateNodeSecretRequest(node_id=node_id)
        reply = await self.as_node(node_id, secret).nodes.RotateNodeSecret(request)
        if self.credentials is not None:
            await asyncio.to_thread(
                self.credentials.save_node, self.server, reply.node_id, reply.node_secret
            )
        return reply.node_secret

    async def rotate_node_secret_as_owner(self, node_id: str) -> str:
        """Rotates one of the logged-in user's nodes with the user's token (the node's own
        credential is refused: a lost reply, or someone else rotated it) and returns the new
        secret. It is stored as this machine's node credential only when `node_id` is this
        machine's node: rotating another machine's node must not make this one act as it."""
        request = node_pb2.RotateNodeSecretRequest(node_id=node_id)
        reply = await self.nodes.RotateNodeSecret(request)
        if self.credentials is not None:
            stored = await asyncio.to_thread(self.credentials.load_node, self.server)
            if stored is not None and stored.node_id == reply.node_id:
                await asyncio.to_thread(
                    self.credentials.save_node, self.server, reply.node_id, reply.node_secret
                )
        return reply.node_secret


async def check_server(
    server: str, tls: bool, ca_file: str = "", insecure: bool = False, timeout_s: float = 5.0
) -> None:
    """Returns when a HiveMind server answers at `server` with these transport settings;
    ClientError otherwise (UNAVAILABLE when nothing answers, with the reason NOT_HIVEMIND when
    something else does, or the channel's refusal). Asks WhoAmI without a credential: a
    server refuses it at once and nothing changes there."""
    try:
        channel = await open_channel(server, tls, ca_file, insecure)
    except ChannelRefused as exc:
        raise ClientError(
            grpc.StatusCode.FAILED_PRECONDITION, str(exc), server, reason=exc.reason
        ) from None
    try:
        whoami = channel.unary_unary(
            "/hivemind.v1.AuthService/WhoAmI",
            request_serializer=auth_pb2.WhoAmIRequest.SerializeToString,
            response_deserializer=common_pb2.User.FromString,
        )
        await whoami(auth_pb2.WhoAmIRequest(), timeout=timeout_s)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.UNIMPLEMENTED:
            raise ClientError(
                error.code(), error.details() or "unimplemented", server, reason="NOT_HIVEMIND"
            ) from None
        if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise ClientError.from_rpc(error, server) from None
        # Any other answer (it wants a credential) comes from a HiveMind server.
    finally:
        await channel.close(grace=None)


def _bearer(metadata: Iterable[tuple[str, str]]) -> str | None:
    for key, value in metadata:
        if key == "authorization" and value.startswith("Bearer "):
            return value[len("Bearer ") :]
    return None


def _unsubscribe_once(unsubscribe: Callable[[], None]) -> Callable[[], None]:
    with contextlib.suppress(ValueError):  # already unsubscribed by an earlier close()
        unsubscribe()
    return lambda: None
