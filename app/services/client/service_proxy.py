"""Generated gRPC stubs turned into proxies whose calls go through a client session.

A proxy reads each method's shape (unary or streaming) and path off the generated stub class,
then hands every call to the session (`call_rpc` / `stream_rpc` of ClientSession), which adds
the credential and retries. The same stubs serve the user's credential and a node's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from proto.hivemind.v1 import (
    account_pb2_grpc,
    admin_pb2_grpc,
    artifact_pb2_grpc,
    auth_pb2_grpc,
    job_pb2_grpc,
    node_pb2_grpc,
)

# Methods the server serves without a token.
_OPEN_METHODS = {"Register", "Login", "Refresh"}

# `auth(stale)` returns the call's metadata; `stale` is the token the server just refused.
Auth = Callable[[str | None], Awaitable[tuple[tuple[str, str], ...]]]


class RpcRunner(Protocol):
    """What runs one RPC for a proxy: ClientSession."""

    def call_rpc(
        self, kind: str, path: str, kwargs: dict, auth: Auth, request: Any, timeout: Any
    ) -> Awaitable[Any]: ...

    def stream_rpc(
        self, kind: str, path: str, kwargs: dict, auth: Auth, request: Any, timeout: Any
    ) -> AsyncIterator[Any]: ...


class _MethodRecorder:
    """Stands in for a channel so a generated stub tells us each method's shape and path
    without a live channel (which needs a running loop)."""

    def _record(kind: str):
        def make(self: Any, path: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
            return (kind, path, kwargs)

        return make

    unary_unary = _record("unary_unary")
    unary_stream = _record("unary_stream")
    stream_unary = _record("stream_unary")
    stream_stream = _record("stream_stream")


class ServiceProxy:
    """A generated stub whose calls carry credentials and retry (see client/session.py).

    Unary calls: `await proxy.Method(request, timeout=None)`. Server streams: `async for
    item in proxy.Method(request)` (retried only before the first item). Client streams:
    `await proxy.Method(requests)` where `requests` is a list (retried) or a zero-argument
    callable returning a fresh (async) iterator per attempt (retried) or any iterator (not
    retried, since it cannot be replayed)."""

    def __init__(self, session: RpcRunner, stub_class: type, auth: Auth) -> None:
        self._session = session
        self._auth = auth
        self._methods = {
            name: value
            for name, value in vars(stub_class(_MethodRecorder())).items()
            if isinstance(value, tuple)
        }

    def __getattr__(self, name: str) -> Callable:
        try:
            kind, path, kwargs = self._methods[name]
        except KeyError:
            raise AttributeError(name) from None
        open_method = name in _OPEN_METHODS and path.startswith("/hivemind.v1.AuthService/")
        auth = _no_auth if open_method else self._auth
        if kind == "unary_stream":
            return lambda request, timeout=None: self._session.stream_rpc(
                kind, path, kwargs, auth, request, timeout
            )
        return lambda request, timeout=None: self._session.call_rpc(
            kind, path, kwargs, auth, request, timeout
        )


async def _no_auth(stale: str | None) -> tuple[tuple[str, str], ...]:
    return ()


class Proxies:
    """The six services, all with one kind of credential."""

    def __init__(self, session: RpcRunner, auth: Auth) -> None:
        self.auth = ServiceProxy(session, auth_pb2_grpc.AuthServiceStub, auth)
        self.account = ServiceProxy(session, account_pb2_grpc.AccountServiceStub, auth)
        self.jobs = ServiceProxy(session, job_pb2_grpc.JobServiceStub, auth)
        self.artifacts = ServiceProxy(session, artifact_pb2_grpc.ArtifactServiceStub, auth)
        self.nodes = ServiceProxy(session, node_pb2_grpc.NodeServiceStub, auth)
        self.admin = ServiceProxy(session, admin_pb2_grpc.AdminServiceStub, auth)
