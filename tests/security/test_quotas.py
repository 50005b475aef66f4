"""Per-user quotas: unfinished jobs and stored bytes. Over a quota: RESOURCE_EXHAUSTED with
a message saying what to do, and nothing changes."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import func, select

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc, common_pb2, job_pb2
from server.store.schema import artifact_owners, jobs, users
from tests.kit.accounts import PASSWORD
from tests.kit.stubs import balance, make_package, rpc_error, submit, upload

pytestmark = pytest.mark.db


@pytest.fixture
def server_settings() -> dict:
    return {
        "max_active_jobs_per_user": 2,
        "user_quota_bytes": 64 * 1024,
        "registrations_per_network_hour": 3,
    }


async def test_unfinished_jobs_are_capped_per_user(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    digest = (await upload(stubs, alice.metadata, make_package())).digest
    first = await submit(stubs, alice.metadata, digest, idempotency_key="one")
    await submit(stubs, alice.metadata, digest)
    before = await balance(stubs, alice.metadata)

    error = await rpc_error(submit(stubs, alice.metadata, digest))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details() == (
        "too many unfinished jobs: you have 2, at most 2 may be pending or running at once;"
        " wait for one to end or cancel one"
    )
    assert await balance(stubs, alice.metadata) == before
    count = await server.ctx.db.run(
        lambda conn: conn.execute(select(func.count()).select_from(jobs)).scalar()
    )
    assert count == 2
    # A retried submission is not a new job: it still answers at the cap.
    again = await submit(stubs, alice.metadata, digest, idempotency_key="one")
    assert again.job_id == first.job_id
    # The quota is per user, and ending a job frees a place.
    bob_digest = (await upload(stubs, bob.metadata, make_package())).digest
    assert await submit(stubs, bob.metadata, bob_digest)
    await stubs.jobs.CancelJob(
        job_pb2.CancelJobRequest(job_id=first.job_id), metadata=alice.metadata
    )
    assert await submit(stubs, alice.metadata, digest)


async def test_stored_bytes_are_capped_per_user(server, user_session, stubs):
    alice = await user_session(server, "alice")
    kind = common_pb2.ARTIFACT_KIND_INPUT
    await upload(stubs, alice.metadata, b"a" * 40_000, kind)
    error = await rpc_error(upload(stubs, alice.metadata, b"b" * 40_000, kind))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details() == (
        "storage quota exceeded: 40000 of 65536 bytes used, this upload needs 40000 more"
    )
    owned = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(func.count())
            .select_from(artifact_owners)
            .where(artifact_owners.c.principal_id == alice.user_id)
        ).scalar()
    )
    assert owned == 1
    # The same bytes again cost nothing more.
    assert (await upload(stubs, alice.metadata, b"a" * 40_000, kind)).exists


async def test_one_address_opens_few_accounts(server, grpc_channel):
    """Every account gets the signup grant: unlimited sign-ups would mint CPT at will."""
    stub = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    bad = await rpc_error(stub.Register(auth_pb2.RegisterRequest(username="x", password="p")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT  # refused ones are not counted
    for name in ("one", "two", "three"):
        await stub.Register(auth_pb2.RegisterRequest(username=name, password=PASSWORD))
    error = await rpc_error(
        stub.Register(auth_pb2.RegisterRequest(username="four", password=PASSWORD))
    )
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details().startswith("too many new accounts from your network; try again in")
    names = await server.ctx.db.run(
        lambda conn: sorted(conn.execute(select(users.c.username)).scalars())
    )
    assert names == ["one", "three", "two"]
