"""The storage quota against concurrent uploads: one owner's uploads, from their user token
and from each of their nodes, share one quota, reserved before any byte lands; and what a
crash leaves on disk (files nothing tracks, partial uploads) is collected."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from proto.hivemind.v1 import artifact_pb2, artifact_pb2_grpc, common_pb2
from server.store.schema import upload_reservations
from tests.kit.stubs import Stubs, register_node, rpc_error, sha256, upload

INPUT = common_pb2.ARTIFACT_KIND_INPUT
RESULT = common_pb2.ARTIFACT_KIND_RESULT
QUOTA = 100_000
SIZE = 30_000

# Also on PostgreSQL (--db=postgres).
pytestmark = pytest.mark.db


@pytest.fixture
def server_settings() -> dict:
    return {"user_quota_bytes": QUOTA, "bittorrent": False}


def _stored_files(data_dir: Path) -> list[Path]:
    root = data_dir / "artifacts"
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp"]


def _temp_files(data_dir: Path) -> list[Path]:
    return list((data_dir / "artifacts" / "tmp").iterdir())


async def _reservations(server: Any) -> int:
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(func.count()).select_from(upload_reservations)).scalar()
    )


async def test_concurrent_uploads_of_one_owner_and_their_nodes_share_one_quota(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    nodes = [await register_node(stubs, alice.metadata, name=f"box{i}") for i in range(2)]
    await upload(stubs, alice.metadata, os.urandom(SIZE), INPUT)
    # Seven more uploads at once, from alice and from both her nodes: every header reaches
    # the server before any data does, as when uploads that finish together were started.
    callers = [alice.metadata] * 3 + [n.metadata for n in nodes for _ in range(2)]
    kinds = [INPUT] * 3 + [RESULT] * 4
    release = asyncio.Event()

    async def held_upload(metadata: Any, kind: int) -> Any:
        data = os.urandom(SIZE)

        async def chunks() -> Any:
            header = artifact_pb2.UploadHeader(kind=kind, size=SIZE, sha256=sha256(data))
            yield artifact_pb2.UploadChunk(header=header)
            await release.wait()
            yield artifact_pb2.UploadChunk(data=data)

        return await stubs.artifacts.Upload(chunks(), metadata=metadata)

    calls = [asyncio.ensure_future(held_upload(m, k)) for m, k in zip(callers, kinds, strict=True)]
    deadline = time.monotonic() + 10
    while sum(c.done() for c in calls) + await _reservations(server) < len(calls):
        assert time.monotonic() < deadline, "the headers never all arrived"
        await asyncio.sleep(0.02)
    release.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    stored = [o for o in outcomes if isinstance(o, artifact_pb2.ArtifactInfo)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert (len(stored), len(refused)) == (2, 5)  # 3 x 30,000 fit in 100,000; a 4th does not
    assert {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert all("storage quota exceeded" in e.details() for e in refused)
    # Nothing untracked is left: on disk are the three stored artifacts, no temp file, no
    # reservation.
    files = _stored_files(server.settings.data_dir)
    assert len(files) == 3 and sum(f.stat().st_size for f in files) <= QUOTA
    assert _temp_files(server.settings.data_dir) == []
    assert await _reservations(server) == 0
    # A node's result counts against its owner: her quota is full, whoever uploads.
    error = await rpc_error(upload(stubs, nodes[0].metadata, os.urandom(SIZE), RESULT))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # The honest party's quota is untouched.
    assert (await upload(stubs, bob.metadata, os.urandom(3 * SIZE), INPUT)).exists


async def test_a_crash_mid_upload_leaves_no_file_and_no_lost_quota(
    server_process, make_server, user_session, monkeypatch
):
    monkeypatch.setenv("HIVEMIND_SERVER_USER_QUOTA_BYTES", str(QUOTA))
    proc = await server_process(extra_args=["--no-bittorrent"])
    data_dir = proc.data_dir
    alice = await user_session(proc, "alice")
    data = os.urandom(3 * SIZE)
    sent_half = asyncio.Event()

    async def chunks() -> Any:
        header = artifact_pb2.UploadHeader(kind=INPUT, size=len(data), sha256=sha256(data))
        yield artifact_pb2.UploadChunk(header=header)
        yield artifact_pb2.UploadChunk(data=data[:SIZE])
        sent_half.set()
        await asyncio.sleep(3600)

    async with grpc.aio.insecure_channel(proc.address) as channel:
        call = asyncio.ensure_future(
            artifact_pb2_grpc.ArtifactServiceStub(channel).Upload(chunks(), metadata=alice.metadata)
        )
        await sent_half.wait()
        deadline = time.monotonic() + 10
        while not any(p.stat().st_size for p in _temp_files(data_dir)):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await proc.kill()  # no cleanup runs
        await asyncio.gather(call, return_exceptions=True)
    # An orphan file too: bytes placed, the row never committed (killed in between).
    orphan = data_dir / "artifacts" / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x" * SIZE)
    assert _temp_files(data_dir) and _stored_files(data_dir) == [orphan]

    server = await make_server(data_dir=data_dir, housekeeping_interval_s=0)
    # Collected as the sweep does it, an hour and more later.
    collected = await server.ctx.artifacts.collect_orphans(now=time.time() + 2 * 3600)
    assert (collected.files, collected.temp_files, collected.reservations) == (1, 1, 1)
    assert _stored_files(data_dir) == [] and _temp_files(data_dir) == []
    # The whole quota is alice's again.
    async with grpc.aio.insecure_channel(server.address) as channel:
        assert (await upload(Stubs(channel), alice.metadata, data, INPUT)).exists


async def test_a_fresh_untracked_file_is_left_alone(server, user_session, stubs):
    """A file placed a moment ago may be one whose row is about to be committed."""
    alice = await user_session(server, "alice")
    kept = await upload(stubs, alice.metadata, os.urandom(SIZE), INPUT)
    fresh = server.settings.artifacts_dir / "ef" / "01" / ("ef01" + "1" * 60)
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_bytes(b"y")
    collected = await server.ctx.artifacts.collect_orphans()
    assert collected.files == 0 and fresh.exists()
    assert len(_stored_files(server.settings.data_dir)) == 2
    assert kept.digest in {p.name for p in _stored_files(server.settings.data_dir)}
