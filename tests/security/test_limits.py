"""Request size limits: every field of every request has a ceiling, a request over it gets a
clear INVALID_ARGUMENT naming the field, and nothing changes."""

from __future__ import annotations

import grpc
from sqlalchemy import func, select

from proto.hivemind.v1 import (
    account_pb2,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    job_pb2,
    node_pb2,
)
from server.rpc.converters import encode_page_token
from server.rpc.errors import MAX_MESSAGE_CHARS
from server.store.schema import accounts, jobs, nodes, users
from tests.kit.accounts import PASSWORD
from tests.kit.stubs import job_request, lease, make_package, register_node, rpc_error, upload


async def count(server, table) -> int:
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(func.count()).select_from(table)).scalar()
    )


async def test_a_huge_username_gets_a_short_clear_error(server, grpc_channel):
    stub = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    # 1 MB: under gRPC's message cap, so it is the field limit that answers.
    error = await rpc_error(
        stub.Register(auth_pb2.RegisterRequest(username="x" * 1_000_000, password=PASSWORD))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "username is 1000000 characters long; at most 4096"
    # A domain message quoting the input is cut to one short line (it travels in trailers).
    error = await rpc_error(
        stub.Register(auth_pb2.RegisterRequest(username="y" * 4000, password=PASSWORD))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("invalid username 'yyyy")
    assert len(error.details()) <= MAX_MESSAGE_CHARS
    error = await rpc_error(
        stub.Login(auth_pb2.LoginRequest(username="z" * 100, password=PASSWORD))
    )
    assert error.details() == "username too long: at most 64 characters"
    assert await count(server, users) == 0


async def test_a_message_over_the_transport_cap_is_refused(server, grpc_channel):
    stub = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    error = await rpc_error(
        stub.Register(auth_pb2.RegisterRequest(username="x" * (5 * 1024 * 1024), password="p"))
    )
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert await count(server, users) == 0


async def test_malformed_bytes_are_an_invalid_argument(server, grpc_channel):
    login = grpc_channel.unary_unary(
        "/hivemind.v1.AuthService/Login",
        request_serializer=lambda raw: raw,
        response_deserializer=lambda raw: raw,
    )
    for raw in (b"\x0a\x03\xff\xfe\xfd", b"\xff\xff\xff"):  # bad UTF-8; corrupt wire format
        error = await rpc_error(login(raw))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error.details().startswith("malformed request: Error parsing message")


async def test_node_fields_are_bounded(server, user_session, stubs):
    alice = await user_session(server, "alice")
    cases = {
        "hardware.cpu_model is 10000 characters long; at most 4096": node_pb2.Hardware(
            cores=4, cpu_model="c" * 10_000
        ),
        "hardware.benchmark_score must be a finite number (got nan)": node_pb2.Hardware(
            cores=4, benchmark_score=float("nan")
        ),
    }
    for message, hardware in cases.items():
        error = await rpc_error(
            stubs.nodes.RegisterNode(
                node_pb2.RegisterNodeRequest(name="box", hardware=hardware),
                metadata=alice.metadata,
            )
        )
        assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, message)
    assert await count(server, nodes) == 0

    node = await register_node(stubs, alice.metadata)
    error = await rpc_error(
        stubs.nodes.Heartbeat(
            node_pb2.HeartbeatRequest(running_attempt_ids=[f"att-{i}" for i in range(5000)]),
            metadata=node.metadata,
        )
    )
    assert error.details() == "running_attempt_ids has 5000 items; at most 1000 allowed"
    error = await rpc_error(
        stubs.nodes.LeaseTasks(
            node_pb2.LeaseTasksRequest(
                free_cores=1, free_memory_mb=100, runtimes=[f"r{i}" for i in range(65)]
            ),
            metadata=node.metadata,
        )
    )
    assert error.details() == "runtimes has 65 items; at most 64 allowed"
    error = await rpc_error(
        stubs.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(
                completions=[node_pb2.Completion(attempt_id="a", log="x" * (1024 * 1024 + 1))]
            ),
            metadata=node.metadata,
        )
    )
    assert error.details() == "completions[0].log is 1048577 characters long; at most 1048576"


async def test_job_fields_are_bounded_and_nothing_is_escrowed(server, user_session, stubs):
    alice = await user_session(server, "alice")
    digest = (await upload(stubs, alice.metadata, make_package())).digest
    balance_before = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(func.sum(accounts.c.balance_ucpt)).where(accounts.c.kind == "user")
        ).scalar()
    )
    cases = {
        "command has 2000 items; at most 1024 allowed": {"command": [""] * 2000},
        "priority must be a finite number (got inf)": {"priority": float("inf")},
        "name is 5000 characters long; at most 4096": {"name": "n" * 5000},
    }
    for message, overrides in cases.items():
        error = await rpc_error(
            stubs.jobs.SubmitJob(job_request(digest, **overrides), metadata=alice.metadata)
        )
        assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, message)
    # Within the field limits but beyond what the ledger can hold: a domain answer, not a crash.
    huge = common_pb2.Resources(cores=2**31 - 1, memory_mb=64, timeout_s=86_400)
    error = await rpc_error(
        stubs.jobs.EstimateCost(
            job_pb2.EstimateCostRequest(resources=huge, tasks=100_000, replicas=5, priority=10),
            metadata=alice.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "more than the 100000000000000000 ucpt a job may cost" in error.details()
    error = await rpc_error(
        stubs.jobs.SubmitJob(
            job_request(digest, resources=huge, task_count=100_000, replicas=5),
            metadata=alice.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await count(server, jobs) == 0
    balance_after = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(func.sum(accounts.c.balance_ucpt)).where(accounts.c.kind == "user")
        ).scalar()
    )
    assert balance_after == balance_before
    node = await register_node(stubs, alice.metadata)
    assert await lease(stubs, node) == []


async def test_page_tokens_and_amounts_cannot_crash_the_ledger(server, user_session, stubs):
    alice = await user_session(server, "alice")
    await user_session(server, "bob")
    for cursor in ("²", "9" * 40, "-1", "abc"):
        page = common_pb2.PageRequest(page_token=encode_page_token(cursor))
        error = await rpc_error(
            stubs.account.ListHistory(
                account_pb2.ListHistoryRequest(page=page), metadata=alice.metadata
            )
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, cursor
        assert error.details().startswith("invalid page token")
    error = await rpc_error(
        stubs.account.Transfer(
            account_pb2.TransferRequest(to_username="bob", amount_ucpt=2**63 - 1),
            metadata=alice.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "amount too large: at most 1000000000 CPT in one movement"
