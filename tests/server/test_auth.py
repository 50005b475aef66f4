"""Accounts and credentials against a real server on a free port."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
import subprocess
import time

import grpc
import pytest
from sqlalchemy import insert, select, update

from proto.hivemind.v1 import (
    account_pb2,
    account_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
)
from server.accounts.signing import load_or_create_key
from server.accounts.tokens import AccessTokenSigner
from server.errors import FailedPrecondition, NotFound
from server.rpc.auth import AuthInterceptor, require_admin, require_user
from server.rpc.errors import maps_domain_errors
from server.store.schema import nodes, users
from tests.kit.accounts import PASSWORD


def auth_stub(channel: grpc.aio.Channel) -> auth_pb2_grpc.AuthServiceStub:
    return auth_pb2_grpc.AuthServiceStub(channel)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def rpc_error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_register_then_whoami_and_login(grpc_channel):
    stub = auth_stub(grpc_channel)
    session = await stub.Register(auth_pb2.RegisterRequest(username="Alice", password=PASSWORD))
    assert session.user.username == "Alice"
    assert session.access_expires_at > time.time()
    assert session.refresh_token

    me = await stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=bearer(session.access_token))
    assert (me.username, me.is_admin) == ("Alice", False)

    again = await stub.Login(auth_pb2.LoginRequest(username="alice", password=PASSWORD))
    assert again.user.user_id == session.user.user_id


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("al", PASSWORD, "invalid username"),
        ("x" * 33, PASSWORD, "invalid username"),
        ("bob smith", PASSWORD, "invalid username"),
        ("bob", "short", "at least 8 characters"),
    ],
)
async def test_register_rejects_bad_input_and_creates_nothing(
    grpc_channel, server, username, password, message
):
    error = await rpc_error(
        auth_stub(grpc_channel).Register(
            auth_pb2.RegisterRequest(username=username, password=password)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.details()
    count = server.ctx.db.transaction_sync(lambda c: len(c.execute(select(users.c.id)).all()))
    assert count == 0


async def test_usernames_are_unique_ignoring_case(grpc_channel):
    stub = auth_stub(grpc_channel)
    await stub.Register(auth_pb2.RegisterRequest(username="carol", password=PASSWORD))
    error = await rpc_error(
        stub.Register(auth_pb2.RegisterRequest(username="CAROL", password=PASSWORD))
    )
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "taken" in error.details()


async def test_wrong_password_and_unknown_user_look_the_same(grpc_channel, user_session, server):
    await user_session(server, "dave")
    stub = auth_stub(grpc_channel)
    wrong = await rpc_error(stub.Login(auth_pb2.LoginRequest(username="dave", password="nope1234")))
    unknown = await rpc_error(
        stub.Login(auth_pb2.LoginRequest(username="nobody", password="nope1234"))
    )
    assert wrong.code() == unknown.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong.details() == unknown.details() == "wrong username or password"


async def test_repeated_failures_lock_the_username(grpc_channel, user_session, server):
    await user_session(server, "erin")
    stub = auth_stub(grpc_channel)
    for _ in range(4):
        error = await rpc_error(
            stub.Login(auth_pb2.LoginRequest(username="erin", password="wrong-pass"))
        )
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    fifth = await rpc_error(stub.Login(auth_pb2.LoginRequest(username="erin", password="bad-pw!!")))
    assert fifth.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "try again in 30 s" in fifth.details()
    # Locked: even the right password is refused, and says when to retry.
    locked = await rpc_error(stub.Login(auth_pb2.LoginRequest(username="erin", password=PASSWORD)))
    assert locked.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "try again in" in locked.details()

    # The lock runs out (moved into the past here instead of waiting 30 s).
    server.ctx.db.transaction_sync(
        lambda c: c.execute(update(users).where(users.c.username == "erin").values(locked_until=1))
    )
    # One more failure doubles the lock: backoff is exponential.
    sixth = await rpc_error(
        stub.Login(auth_pb2.LoginRequest(username="erin", password="nope-nope"))
    )
    assert "try again in 60 s" in sixth.details()
    server.ctx.db.transaction_sync(
        lambda c: c.execute(update(users).where(users.c.username == "erin").values(locked_until=1))
    )
    ok = await stub.Login(auth_pb2.LoginRequest(username="erin", password=PASSWORD))
    assert ok.user.username == "erin"
    # A name without an account locks the same way, so lockouts do not reveal who exists.
    for _ in range(4):
        await rpc_error(stub.Login(auth_pb2.LoginRequest(username="ghost", password="x" * 8)))
    ghost = await rpc_error(stub.Login(auth_pb2.LoginRequest(username="ghost", password="y" * 8)))
    assert (ghost.code(), ghost.details()) == (fifth.code(), fifth.details())
    failures = server.ctx.db.transaction_sync(
        lambda c: c.execute(
            select(users.c.failed_logins).where(users.c.username == "erin")
        ).scalar()
    )
    assert failures == 0


async def test_refresh_rotates_and_reuse_revokes_the_family(grpc_channel, user_session, server):
    session = await user_session(server, "frank")
    stub = auth_stub(grpc_channel)
    first = await stub.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token))
    assert first.refresh_token != session.refresh_token
    assert first.access_token
    me = await stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=bearer(first.access_token))
    assert me.username == "frank"

    # The spent token comes back (a stolen copy): refused, and its successor dies too.
    reused = await rpc_error(
        stub.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token))
    )
    assert reused.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "already used" in reused.details()
    successor = await rpc_error(
        stub.Refresh(auth_pb2.RefreshRequest(refresh_token=first.refresh_token))
    )
    assert successor.code() == grpc.StatusCode.UNAUTHENTICATED

    # Another login is another family and still works.
    other = await stub.Login(auth_pb2.LoginRequest(username="frank", password=PASSWORD))
    assert (await stub.Refresh(auth_pb2.RefreshRequest(refresh_token=other.refresh_token))).user


async def test_refresh_with_garbage_is_refused(grpc_channel):
    error = await rpc_error(
        auth_stub(grpc_channel).Refresh(auth_pb2.RefreshRequest(refresh_token="made-up"))
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "log in again" in error.details()


async def test_logout_revokes_the_refresh_token(grpc_channel, user_session, server):
    session = await user_session(server, "gina")
    stub = auth_stub(grpc_channel)
    await stub.Logout(
        auth_pb2.LogoutRequest(refresh_token=session.refresh_token), metadata=session.metadata
    )
    error = await rpc_error(
        stub.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token))
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_change_password(grpc_channel, user_session, server):
    session = await user_session(server, "hank")
    stub = auth_stub(grpc_channel)
    wrong = await rpc_error(
        stub.ChangePassword(
            auth_pb2.ChangePasswordRequest(
                old_password="not-it-at-all", new_password="n3w-secret!"
            ),
            metadata=session.metadata,
        )
    )
    assert wrong.code() == grpc.StatusCode.PERMISSION_DENIED
    await stub.ChangePassword(
        auth_pb2.ChangePasswordRequest(old_password=PASSWORD, new_password="n3w-secret!"),
        metadata=session.metadata,
    )
    old = await rpc_error(stub.Login(auth_pb2.LoginRequest(username="hank", password=PASSWORD)))
    assert old.details() == "wrong username or password"
    assert await stub.Login(auth_pb2.LoginRequest(username="hank", password="n3w-secret!"))
    revoked = await rpc_error(
        stub.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token))
    )
    assert revoked.code() == grpc.StatusCode.UNAUTHENTICATED


def _forge(token: str, **changes) -> str:
    """The token with its claims changed and its signature kept (a JWT: header.claims.sig)."""
    header, payload_text, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4)))
    payload.update(changes)
    raw = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{header}.{raw}.{signature}"


def _unsigned(token: str) -> str:
    """The token's claims under a header naming algorithm `none`, with no signature."""
    payload_text = token.split(".")[1]
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{payload_text}."


async def test_forged_and_missing_credentials_are_refused(
    grpc_channel, user_session, server, tmp_path
):
    session = await user_session(server, "ivan")
    stub = account_pb2_grpc.AccountServiceStub(grpc_channel)
    other_key_token, _ = AccessTokenSigner(load_or_create_key(tmp_path / "other"), 60).issue(
        session.user_id, "ivan", True
    )
    cases = {
        "no credential": (),
        "garbage": bearer("not-a-token"),
        "payload changed": bearer(_forge(session.access_token, adm=True)),
        "expiry pushed back": bearer(_forge(session.access_token, exp=int(time.time()) + 10**6)),
        "algorithm none": bearer(_unsigned(session.access_token)),
        "signed by another server": bearer(other_key_token),
        "unknown scheme": (("authorization", f"Basic {session.access_token}"),),
    }
    for case, metadata in cases.items():
        error = await rpc_error(stub.GetBalance(account_pb2.GetBalanceRequest(), metadata=metadata))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, case
    # The genuine token still works.
    assert await stub.GetBalance(account_pb2.GetBalanceRequest(), metadata=session.metadata)


async def test_expired_access_token_is_refused(grpc_channel, user_session, server):
    session = await user_session(server, "judy")
    signer = AccessTokenSigner(load_or_create_key(server.settings.data_dir), 60)
    expired, _ = signer.issue(session.user_id, "judy", False, now=time.time() - 120)
    error = await rpc_error(
        account_pb2_grpc.AccountServiceStub(grpc_channel).GetBalance(
            account_pb2.GetBalanceRequest(), metadata=bearer(expired)
        )
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in error.details()


async def test_short_access_ttl_expires_and_refresh_recovers(make_server, user_session):
    server = await make_server(access_token_ttl_s=1)
    session = await user_session(server, "kate")
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = auth_stub(channel)
        assert await stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=session.metadata)
        await asyncio.sleep(2.1)  # the expiry is rounded up to a whole second
        error = await rpc_error(stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=session.metadata))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        fresh = await stub.Refresh(auth_pb2.RefreshRequest(refresh_token=session.refresh_token))
        me = await stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=bearer(fresh.access_token))
        assert me.username == "kate"


async def test_token_key_is_private_and_survives_restart(make_server, user_session, tmp_path):
    data_dir = tmp_path / "keep"
    first = await make_server(data_dir=data_dir)
    session = await user_session(first, "liam")
    key_file = data_dir / "token.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    await first.stop()
    second = await make_server(data_dir=data_dir)
    async with grpc.aio.insecure_channel(second.address) as channel:
        me = await auth_stub(channel).WhoAmI(auth_pb2.WhoAmIRequest(), metadata=session.metadata)
    assert me.username == "liam"


def _add_node(server, owner_id: str, secret: str) -> str:
    node_id = "node-test0000000000000001"
    now = time.time()
    server.ctx.db.transaction_sync(
        lambda c: c.execute(
            insert(nodes).values(
                id=node_id,
                owner_id=owner_id,
                name="box",
                secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
                created_at=now,
                last_seen=now,
            )
        )
    )
    return node_id


async def test_node_credentials(grpc_channel, user_session, server):
    owner = await user_session(server, "mia")
    admin = await user_session(server, "root", admin=True)
    node_id = _add_node(server, owner.user_id, "s3cret")
    node_md = (("authorization", f"Node {node_id}.s3cret"),)
    auth = auth_stub(grpc_channel)
    me = await auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=node_md)
    assert me.username == "mia"  # a node acts for its owner

    # A node credential is not a user's token.
    account = account_pb2_grpc.AccountServiceStub(grpc_channel)
    denied = await rpc_error(account.GetBalance(account_pb2.GetBalanceRequest(), metadata=node_md))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED

    wrong = await rpc_error(
        auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=(("authorization", f"Node {node_id}.x"),))
    )
    assert wrong.code() == grpc.StatusCode.UNAUTHENTICATED

    # Banned: refused at once, although the credential was cached a moment ago.
    admin_stub = admin_pb2_grpc.AdminServiceStub(grpc_channel)
    banned = await admin_stub.BanNode(
        admin_pb2.BanNodeRequest(node_id=node_id, reason="bad results"), metadata=admin.metadata
    )
    assert banned.banned
    refused = await rpc_error(auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=node_md))
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "banned: bad results" in refused.details()


# The plumbing every servicer relies on, on a real grpc.aio server: the caller reaches
# unary and streaming handlers, and domain errors map to status codes in each kind.


class _Probe:
    """A test-only service: answers with the caller's name, fails on request."""

    @maps_domain_errors
    async def unary(self, request: bytes, context) -> bytes:
        if request == b"missing":
            raise NotFound("no such thing")
        if request == b"crash":
            raise RuntimeError("a bug, with a secret in its message")
        return require_user(context).username.encode()

    @maps_domain_errors
    async def unary_stream(self, request: bytes, context):
        name = require_user(context).username.encode()
        yield name
        yield name
        raise FailedPrecondition("stream ended by the domain")

    @maps_domain_errors
    async def stream_unary(self, requests, context) -> bytes:
        count = 0
        async for _ in requests:
            count += 1
        return f"{require_user(context).username}:{count}".encode()

    @maps_domain_errors
    async def stream_stream(self, requests, context):
        async for request in requests:
            if request == b"admin?":
                require_admin(context)
            yield require_user(context).username.encode() + b":" + request


@pytest.fixture
async def probe_address(server):
    probe = _Probe()
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(probe.unary),
        "UnaryStream": grpc.unary_stream_rpc_method_handler(probe.unary_stream),
        "StreamUnary": grpc.stream_unary_rpc_method_handler(probe.stream_unary),
        "StreamStream": grpc.stream_stream_rpc_method_handler(probe.stream_stream),
    }
    probe_server = grpc.aio.server(interceptors=[AuthInterceptor(server.ctx)])
    probe_server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("t.Probe", handlers)]
    )
    port = probe_server.add_insecure_port("127.0.0.1:0")
    await probe_server.start()
    yield f"127.0.0.1:{port}"
    await probe_server.stop(0)


async def _requests(*items: bytes):
    for item in items:
        yield item


async def test_principal_and_errors_reach_every_handler_kind(probe_address, server, user_session):
    session = await user_session(server, "nora")
    md = session.metadata
    async with grpc.aio.insecure_channel(probe_address) as channel:
        unary = channel.unary_unary("/t.Probe/Unary")
        assert await unary(b"hi", metadata=md) == b"nora"
        missing = await rpc_error(unary(b"missing", metadata=md))
        assert (missing.code(), missing.details()) == (grpc.StatusCode.NOT_FOUND, "no such thing")
        crash = await rpc_error(unary(b"crash", metadata=md))
        assert crash.code() == grpc.StatusCode.INTERNAL
        assert crash.details() == "internal error (logged on the server)"
        anonymous = await rpc_error(unary(b"hi"))
        assert anonymous.code() == grpc.StatusCode.UNAUTHENTICATED

        call = channel.unary_stream("/t.Probe/UnaryStream")(b"", metadata=md)
        received = []
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            async for item in call:
                received.append(item)
        assert received == [b"nora", b"nora"]
        assert ended.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        refused = channel.unary_stream("/t.Probe/UnaryStream")(b"")
        with pytest.raises(grpc.aio.AioRpcError) as no_token:
            async for _ in refused:
                pass
        assert no_token.value.code() == grpc.StatusCode.UNAUTHENTICATED

        stream_unary = channel.stream_unary("/t.Probe/StreamUnary")
        assert await stream_unary(_requests(b"a", b"b", b"c"), metadata=md) == b"nora:3"

        bidi = channel.stream_stream("/t.Probe/StreamStream")(
            _requests(b"x", b"admin?"), metadata=md
        )
        echoed = []
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            async for item in bidi:
                echoed.append(item)
        assert echoed == [b"nora:x"]
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _self_signed(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_server_takes_tls_clients_only(make_server, tmp_path):
    cert, key = _self_signed(tmp_path)
    server = await make_server(tls_cert_file=str(cert), tls_key_file=str(key))
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    async with grpc.aio.secure_channel(server.address, credentials) as channel:
        session = await auth_stub(channel).Register(
            auth_pb2.RegisterRequest(username="tess", password=PASSWORD)
        )
        assert session.user.username == "tess"
    async with grpc.aio.insecure_channel(server.address) as channel:
        plaintext = await rpc_error(
            auth_stub(channel).Login(
                auth_pb2.LoginRequest(username="tess", password=PASSWORD), timeout=5
            )
        )
    assert plaintext.code() == grpc.StatusCode.UNAVAILABLE


async def test_tls_needs_both_files(make_server, tmp_path):
    with pytest.raises(ValueError, match="both tls_cert_file and tls_key_file"):
        await make_server(tls_cert_file=str(tmp_path / "cert.pem"))
