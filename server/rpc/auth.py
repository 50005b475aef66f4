"""Who is calling: the auth interceptor and the `require_*` checks servicers use.

Metadata `authorization` carries either `Bearer <access token>` (a user) or
`Node <node_id>.<secret>` (a worker node), or, between replicas of one server, `Replica
<token>` (signed with a key derived from the token.key they share; it may only download and
stat artifacts). Every method except AuthService Register, Login and Refresh and the
standard health and reflection services (rpc/standard.py) needs one.
The interceptor hands the verified Principal to the handler by wrapping the handler's
behaviour and passing it a context that carries the principal: a contextvar set inside an
aio interceptor is not reliably visible to the handler.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from sqlalchemy import Connection, select

from common.bounded import BoundedCache
from server.accounts.revocation import check_access, current_user_state
from server.accounts.signing import REPLICA, Signer, SigningKeys
from server.context import ServerContext
from server.errors import DomainError, PermissionDenied, Unauthenticated
from server.nodes.batching import Batched
from server.rpc.errors import status_for, status_message
from server.rpc.handlers import Behaviour, rewrap
from server.rpc.standard import OPEN_METHODS as STANDARD_OPEN_METHODS
from server.store.schema import nodes, users

log = logging.getLogger("hivemind.auth")

OPEN_METHODS = frozenset(
    {
        "/hivemind.v1.AuthService/Register",
        "/hivemind.v1.AuthService/Login",
        "/hivemind.v1.AuthService/Refresh",
    }
).union(STANDARD_OPEN_METHODS)
NODE_CREDENTIAL_CACHE_S = 15.0
NODE_CREDENTIAL_CACHE_WITH_REDIS_S = 120.0
# What a replica may call on another: fetch an artifact it lacks.
REPLICA_METHODS = frozenset(
    {"/hivemind.v1.ArtifactService/Download", "/hivemind.v1.ArtifactService/Stat"}
)
REPLICA_TOKEN_TTL_S = 300
NODE_CREDENTIALS_CACHED = 20_000
# Calls that need the admin role: the caller's role is read from the database for each.
ADMIN_RPCS = "/hivemind.v1.AdminService/"


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "node" | "replica"
    user_id: str  # for a node: its owner
    username: str
    is_admin: bool = False
    node_id: str = ""

    def describe(self) -> str:
        """For logs: `user=alice` or `node=node-… user=alice`."""
        if self.kind == "node":
            return f"node={self.node_id} user={self.username}"
        return f"user={self.username}"


class AuthenticatedContext:
    """A servicer context that also knows the caller; everything else is the real one."""

    __slots__ = ("_context", "hivemind_principal")

    def __init__(self, context: Any, principal: Principal) -> None:
        self._context = context
        self.hivemind_principal = principal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def principal_of(context: Any) -> Principal:
    principal = getattr(context, "hivemind_principal", None)
    if principal is None:
        raise Unauthenticated("this call needs a credential (log in first)")
    return principal


def require_user(context: Any) -> Principal:
    """The calling user; PERMISSION_DENIED for a node credential."""
    principal = principal_of(context)
    if principal.kind != "user":
        raise PermissionDenied("this call needs a user's token, not a node credential")
    return principal


def require_admin(context: Any) -> Principal:
    principal = require_user(context)
    if not principal.is_admin:
        raise PermissionDenied("this call needs the admin role")
    return principal


def require_node(context: Any) -> Principal:
    """The calling node; PERMISSION_DENIED for a user's token."""
    principal = principal_of(context)
    if principal.kind != "node":
        raise PermissionDenied("this call needs a node credential (register this machine)")
    return principal


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class _NodeRecord:
    secret_hash: str
    principal: Principal
    banned: bool
    ban_reason: str
    cached_until: float


class NodeCredentialCache:
    """Verified node credentials for a few seconds, so heartbeats do not hit the database;
    at most `max_entries` of them (the least recently used leave first). A rotation or a ban
    is announced (server/store/invalidation.py), which drops the entry on every replica;
    `generation` keeps a record read before such a drop from being cached after it."""

    def __init__(
        self, ttl_s: float = NODE_CREDENTIAL_CACHE_S, max_entries: int = NODE_CREDENTIALS_CACHED
    ) -> None:
        self.ttl_s = ttl_s
        self._records: BoundedCache[str, _NodeRecord] = BoundedCache(max_entries)
        self.generation = 0  # bumped by every drop

    def __len__(self) -> int:
        return len(self._records)

    def get(self, node_id: str) -> _NodeRecord | None:
        record = self._records.get(node_id)
        if record is not None and record.cached_until < time.monotonic():
            self._records.pop(node_id)
            return None
        return record

    def put(self, node_id: str, record: _NodeRecord, read_at_generation: int | None = None) -> None:
        """Caches `record`, unless something was dropped since it was read (`generation`
        then): it may be what was dropped."""
        if read_at_generation is not None and read_at_generation != self.generation:
            return
        self._records.put(node_id, record)

    def forget(self, node_id: str) -> None:
        self.generation += 1
        self._records.pop(node_id, None)

    def forget_owner(self, user_id: str) -> None:
        """Drops the nodes of one owner (their owner was banned or unbanned)."""
        self.generation += 1
        for node_id in [n for n, r in self._records.items() if r.principal.user_id == user_id]:
            self._records.pop(node_id)

    def clear(self) -> None:
        self.generation += 1
        self._records.clear()


def _load_nodes(conn: Connection, node_ids: Sequence[str]) -> list[Any]:
    """Each node's credential row (None for an unknown node), in the order asked."""
    found: dict[str, Any] = {}
    wanted = sorted(set(node_ids))
    for start in range(0, len(wanted), 500):  # SQLite caps a statement's parameters
        rows = conn.execute(
            select(
                nodes.c.id,
                nodes.c.secret_hash,
                nodes.c.owner_id,
                nodes.c.banned,
                nodes.c.ban_reason,
                users.c.username,
                users.c.banned.label("owner_banned"),
            )
            .join(users, users.c.id == nodes.c.owner_id)
            .where(nodes.c.id.in_(wanted[start : start + 500]))
        )
        found.update((row.id, row) for row in rows)
    return [found.get(node_id) for node_id in node_ids]


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.node_cache = ctx.node_credentials
        # Credentials not cached are read many to a transaction (thousands of nodes beat).
        self._load_node = Batched.transactions(ctx.db, _load_nodes)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method in OPEN_METHODS:
            return handler
        credential = ""
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization":
                credential = value if isinstance(value, str) else value.decode()
                break
        try:
            principal = await self.authenticate(credential, fresh=method.startswith(ADMIN_RPCS))
            if principal.kind == "replica" and method not in REPLICA_METHODS:
                raise PermissionDenied("a replica credential may only fetch artifacts")
        except DomainError as error:
            log.info("rpc=%s refused status=%s error=%s", method, status_for(error).name, error)
            return rewrap(handler, _refusal(status_for(error), status_message(error)))
        log.debug("rpc=%s %s", method, principal.describe())
        return rewrap(handler, _with_principal(principal))

    async def authenticate(self, credential: str, fresh: bool = False) -> Principal:
        """The principal behind an `authorization` value, or a domain error saying why not.
        A user's role is the current one, read from the database when `fresh` (admin calls),
        else through the short cache of users' states (server/accounts/revocation.py)."""
        scheme, _, value = credential.strip().partition(" ")
        value = value.strip()
        if not scheme or not value:
            raise Unauthenticated("this call needs a credential (log in first)")
        if scheme.lower() == "bearer":
            claims = self.ctx.token_signer.verify(value)
            state = await current_user_state(self.ctx, claims.user_id, fresh=fresh)
            check_access(claims.generation, state)
            return Principal("user", state.user_id, state.username, state.is_admin)
        if scheme.lower() == "node":
            return await self._authenticate_node(value)
        if scheme.lower() == "replica":
            claims = replica_signer(self.ctx.signing_keys).verify(value)
            name = f"replica {claims.get('sub', '')}"
            return Principal("replica", "", name, is_admin=True)
        raise Unauthenticated(f"unknown authorization scheme {scheme!r} (use Bearer or Node)")

    async def _authenticate_node(self, value: str) -> Principal:
        node_id, _, secret = value.partition(".")
        if not node_id or not secret:
            raise Unauthenticated("malformed node credential (expected <node_id>.<secret>)")
        record = self.node_cache.get(node_id)
        if record is None:
            read_at = self.node_cache.generation
            row = await self._load_node(node_id)
            if row is None:
                raise Unauthenticated("unknown node credential; register this machine again")
            record = _NodeRecord(
                secret_hash=row.secret_hash,
                principal=Principal("node", row.owner_id, row.username, False, node_id),
                banned=bool(row.banned or row.owner_banned),
                ban_reason=(row.ban_reason or "") if row.banned else "its owner is banned",
                cached_until=time.monotonic() + self.node_cache.ttl_s,
            )
            self.node_cache.put(node_id, record, read_at)
        if not hmac.compare_digest(record.secret_hash, _secret_hash(secret)):
            raise Unauthenticated("wrong node credential; register this machine again")
        if record.banned:
            reason = f": {record.ban_reason}" if record.ban_reason else ""
            raise PermissionDenied(f"node {node_id} is banned{reason}")
        return record.principal


def replica_signer(keys: SigningKeys) -> Signer:
    """Signs and checks the tokens replicas of one server fetch artifacts from each other with."""
    return keys.signer(REPLICA, REPLICA_TOKEN_TTL_S, "replica token")


def _with_principal(principal: Principal) -> Callable[[Behaviour], Behaviour]:
    """Wraps a behaviour so it runs with a context carrying `principal`, keeping its kind
    (coroutine or async generator), which grpc.aio inspects to decide how to run it."""

    def wrap(behaviour: Behaviour) -> Behaviour:
        if inspect.isasyncgenfunction(behaviour):

            async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
                async for response in behaviour(request, AuthenticatedContext(context, principal)):
                    yield response

            return streaming

        async def unary(request: Any, context: Any) -> Any:
            return await behaviour(request, AuthenticatedContext(context, principal))

        return unary

    return wrap


def _refusal(code: grpc.StatusCode, message: str) -> Callable[[Behaviour], Behaviour]:
    def wrap(behaviour: Behaviour) -> Behaviour:
        if inspect.isasyncgenfunction(behaviour):

            async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
                await context.abort(code, message)
                yield  # pragma: no cover - makes this an async generator

            return streaming

        async def unary(request: Any, context: Any) -> Any:
            await context.abort(code, message)

        return unary

    return wrap
