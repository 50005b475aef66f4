"""Transfer does not enumerate usernames for free (server/accounts/recipients.py): a transfer
the sender cannot pay is refused alike for every name, and names without an account cost an
hourly budget, while an honest typo is still told plainly. Against a real server."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import select

from proto.hivemind.v1 import account_pb2, admin_pb2, admin_pb2_grpc
from server.ledger import audit
from server.store.schema import users
from tests.kit.stubs import Stubs

# Also on PostgreSQL (--db=postgres): every replica shares what the database holds.
pytestmark = pytest.mark.db

CPT = 1_000_000
BUDGET = 10


@pytest.fixture
def server_settings() -> dict:
    # Money comes only from the admin here, so what a sender holds is known exactly.
    return {"signup_grant_ucpt": 0, "transfer_unknown_names_per_hour": BUDGET}


async def send(stubs: Stubs, sender, to: str, amount: int) -> tuple[grpc.StatusCode, str]:
    try:
        await stubs.account.Transfer(
            account_pb2.TransferRequest(to_username=to, amount_ucpt=amount),
            metadata=sender.metadata,
        )
    except grpc.aio.AioRpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


async def balance(stubs: Stubs, who) -> int:
    reply = await stubs.account.GetBalance(account_pb2.GetBalanceRequest(), metadata=who.metadata)
    return reply.balance_ucpt


async def test_a_sender_who_cannot_pay_learns_nothing_about_names(
    server, user_session, grpc_channel
):
    mallory = await user_session(server, "mallory")
    await user_session(server, "alice")
    stubs = Stubs(grpc_channel)
    # A fresh account holds no CPT: real and made-up names answer alike.
    real = await send(stubs, mallory, "alice", 1)
    made_up = await send(stubs, mallory, "nobody_here", 1)
    assert (
        real
        == made_up
        == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "insufficient balance: the transfer needs 0.000001 CPT, you have 0 CPT",
        )
    )
    misses = server.ctx.db.transaction_sync(
        lambda c: c.execute(
            select(users.c.transfer_misses).where(users.c.username == "mallory")
        ).scalar()
    )
    assert misses == 0


async def test_unknown_names_cost_an_hourly_budget_and_typos_stay_clear(
    server, user_session, grpc_channel
):
    root = await user_session(server, "root", admin=True)
    mallory = await user_session(server, "mallory")
    await user_session(server, "alice")
    await user_session(server, "bob")
    await admin_pb2_grpc.AdminServiceStub(grpc_channel).Grant(
        admin_pb2.GrantRequest(username="mallory", amount_ucpt=5 * CPT), metadata=root.metadata
    )
    stubs = Stubs(grpc_channel)
    # An honest typo is told plainly, and nothing moves.
    assert await send(stubs, mallory, "alcie", CPT) == (
        grpc.StatusCode.NOT_FOUND,
        "no user named 'alcie': check the spelling; nothing was sent",
    )
    assert await send(stubs, mallory, "alice", 1) == (grpc.StatusCode.OK, "")
    # Probing a list of names: the budget runs out, then every new name answers alike.
    answers = [await send(stubs, mallory, f"guess{i:03d}", 1) for i in range(BUDGET + 5)]
    assert [code for code, _ in answers[: BUDGET - 1]] == [grpc.StatusCode.NOT_FOUND] * (BUDGET - 1)
    limited = answers[BUDGET - 1 :]
    assert {code for code, _ in limited} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert limited[0][1].startswith("too many transfers to unknown usernames this hour; try again")
    real_name = await send(stubs, mallory, "bob", 1)  # exists, never paid: no different
    assert real_name[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Someone already paid is no secret: paying them again still works.
    assert await send(stubs, mallory, "alice", 1) == (grpc.StatusCode.OK, "")
    assert await balance(stubs, mallory) == 5 * CPT - 2
    assert server.ctx.db.transaction_sync(audit.check_ledger).ok

    # A new hour (moved into the past here instead of waiting) opens a new budget.
    server.ctx.db.transaction_sync(
        lambda c: c.execute(
            users.update().where(users.c.username == "mallory").values(transfer_misses_since=1.0)
        )
    )
    assert (await send(stubs, mallory, "bob", 1))[0] == grpc.StatusCode.OK
