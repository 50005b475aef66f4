"""Fuzzing every RPC of the six services against a real server: malformed and boundary
values (empty and huge strings, negative and huge numbers, NaN and infinities, unknown ids,
other users' ids, every kind of credential, including none and the wrong one), mostly as
one or two bad fields in an otherwise valid request so the deeper checks are reached.

Two promises are checked for every call: the server never answers INTERNAL (or UNKNOWN: an
exception nobody mapped), and a refused call changes nothing: every row of every table is
the same before and after it. A call that succeeds may change state (it was valid input);
a node report whose every item was refused must change nothing either. Every refusal is
one line of at most MAX_MESSAGE_CHARS.

Bounded runtime: a fixed number of examples per RPC (well under a minute on 2 cores).
Run with -s to see how each RPC answered.
"""

from __future__ import annotations

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proto.hivemind.v1 import artifact_pb2, common_pb2
from server.rpc.errors import MAX_MESSAGE_CHARS
from tests.kit.servers import ServerThread
from tests.kit.stubs import sha256
from tests.security.fuzzkit import Rpc, boundary_variants, every_rpc, requests, upload_streams
from tests.security.fuzzworld import World, build_world

RPCS = every_rpc()
EXAMPLES_PER_RPC = 25
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
NODE_REPORTS = {"StartAttempts", "CompleteAttempts", "FailAttempts", "ReturnAttempts"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    thread = ServerThread(
        tmp_path_factory.mktemp("fuzz-server"),
        listen="127.0.0.1:0",
        # Nothing may change by itself while a refused call is compared before and after.
        lease_ttl_s=3600,
        node_offline_after_s=3600,
        # A fuzzed LeaseTasks asking to wait for work must not hold each example for long.
        lease_wait_max_s=0.1,
    )
    server = thread.start()
    channel = grpc.insecure_channel(
        server.address, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    )
    try:
        world = build_world(server, channel)
        yield world
        for (name, code), count in sorted(world.outcomes.items()):
            print(f"fuzz {name} {code} x{count}")
    finally:
        channel.close()
        thread.stop()


def test_every_rpc_is_fuzzed():
    names = {rpc.name for rpc in RPCS}
    assert len(RPCS) >= 38 and {"Upload", "WatchJob", "RotateNodeSecret", "BanNode"} <= names


def _all_refused(rpc: Rpc, response: object) -> bool:
    return rpc.name in NODE_REPORTS and all(not ack.accepted for ack in response.acks)


def check_call(world: World, rpc: Rpc, who: str, request: object) -> None:
    """Calls once and checks the two promises (see the module docstring)."""
    before = world.snapshot(rpc)
    try:
        response = world.call(rpc, request, world.credentials[who])
    except grpc.RpcError as error:
        code, details = error.code(), error.details() or ""
        world.outcomes[(str(rpc), code.name)] += 1
        assert code not in NEVER, f"{rpc} as {who}: {code.name} {details}"
        assert code != grpc.StatusCode.DEADLINE_EXCEEDED, f"{rpc} as {who} hung"
        assert details and "\n" not in details and len(details) <= MAX_MESSAGE_CHARS, details
        changes = before.differences(world.snapshot(rpc))
        assert not changes, f"{rpc} as {who} was refused ({code.name}) but changed {changes}"
        return
    world.outcomes[(str(rpc), "OK")] += 1
    world.after_success(rpc, response, who, request)
    if _all_refused(rpc, response):
        changes = before.differences(world.snapshot(rpc))
        assert not changes, f"{rpc} as {who}: every item refused, yet changed {changes}"


UPLOAD_HEADER = artifact_pb2.UploadHeader(
    kind=common_pb2.ARTIFACT_KIND_INPUT, size=3, sha256=sha256(b"abc"), name="in.txt"
)


@pytest.mark.parametrize("rpc", RPCS, ids=str)
def test_every_field_at_its_boundaries(world: World, rpc: Rpc):
    """Deterministic: each field of a valid request, one at a time, at each boundary value."""
    who = world.expected_callers(rpc)[0]
    if rpc.client_streaming:
        for _, header in boundary_variants(UPLOAD_HEADER, world.foreign_id(rpc)):
            chunks = [
                artifact_pb2.UploadChunk(header=header),
                artifact_pb2.UploadChunk(data=b"abc"),
            ]
            check_call(world, rpc, who, chunks)
        return
    template = world.templates.get(rpc.name, rpc.request_class())
    for _, request in boundary_variants(template, world.foreign_id(rpc)):
        check_call(world, rpc, who, request)


@pytest.mark.parametrize("rpc", RPCS, ids=str)
@settings(
    max_examples=EXAMPLES_PER_RPC,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_every_rpc_refuses_bad_input_cleanly(world: World, rpc: Rpc, data: st.DataObject):
    """Random: mostly valid requests with one or two fuzzed fields, from any caller."""
    callers = st.sampled_from(world.expected_callers(rpc))
    anyone = st.sampled_from(sorted(world.credentials))
    who = data.draw(st.one_of(callers, callers, anyone), label="credential")
    if rpc.client_streaming:
        request = data.draw(upload_streams(world.known), label="chunks")
    else:
        template = world.templates.get(rpc.name)
        request = data.draw(requests(rpc.request_class, template, world.known), label="request")
    check_call(world, rpc, who, request)
