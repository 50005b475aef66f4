"""The signing library: one key per purpose, and a token of one purpose is refused as another.

The dashboard's session cookies and CSRF tokens use the same `SigningKeys` as the gRPC access
tokens; these tests hold the walls between them, against the real server where one exists.
"""

from __future__ import annotations

import time

import grpc
import pytest

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc
from server.accounts.signing import (
    ACCESS_TOKEN,
    CSRF,
    WEB_SESSION,
    SigningKeys,
    load_or_create_key,
)
from server.errors import Unauthenticated


@pytest.fixture
def keys(tmp_path) -> SigningKeys:
    return SigningKeys(load_or_create_key(tmp_path))


def test_each_purpose_has_its_own_key_and_none_is_the_root(keys, tmp_path):
    root = load_or_create_key(tmp_path)
    derived = {purpose: keys.key_for(purpose) for purpose in (ACCESS_TOKEN, WEB_SESSION, CSRF)}
    assert len(set(derived.values())) == 3
    assert root not in derived.values()
    # Derivation is a function of the root: a replica sharing token.key derives the same.
    assert SigningKeys(root).key_for(CSRF) == derived[CSRF]


def test_a_token_of_one_purpose_is_refused_as_another(keys):
    session = keys.signer(WEB_SESSION, ttl_s=60, what="session")
    csrf = keys.signer(CSRF, ttl_s=60, what="form token")
    cookie, _ = session.sign({"sub": "user-1", "sid": "s1"})
    form_token, _ = csrf.sign({"sid": "s1"})
    assert session.verify(cookie)["sid"] == "s1"
    assert csrf.verify(form_token)["sid"] == "s1"
    with pytest.raises(Unauthenticated, match="invalid session"):
        session.verify(form_token)
    with pytest.raises(Unauthenticated, match="invalid form token"):
        csrf.verify(cookie)
    # Even signed with the right key, a token naming another purpose is refused.
    same_key_other_audience = keys.signer(WEB_SESSION, 60)
    same_key_other_audience.audience = "hivemind:" + CSRF
    relabelled, _ = same_key_other_audience.sign({"sid": "s1"})
    with pytest.raises(Unauthenticated):
        session.verify(relabelled)


def test_expired_tokens_say_so_and_what_to_do(keys):
    session = keys.signer(WEB_SESSION, ttl_s=60, what="session")
    old, expires_at = session.sign({"sub": "user-1"}, now=time.time() - 61)
    assert expires_at <= time.time()
    with pytest.raises(Unauthenticated, match=r"^session expired; sign in again$"):
        session.verify(old, expired_hint="sign in again")


async def test_the_server_refuses_a_dashboard_cookie_as_an_access_token(
    server, user_session, grpc_channel
):
    alice = await user_session(server, "alice")
    cookie_signer = server.ctx.signing_keys.signer(WEB_SESSION, ttl_s=60)
    # The same claims an access token carries, signed for the dashboard: not a bearer token.
    cookie, _ = cookie_signer.sign({"sub": alice.user_id, "name": "alice", "adm": True})
    stub = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.WhoAmI(
            auth_pb2.WhoAmIRequest(), metadata=(("authorization", f"Bearer {cookie}"),)
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.details() == "invalid access token"
    me = await stub.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=alice.metadata)
    assert me.username == "alice"
