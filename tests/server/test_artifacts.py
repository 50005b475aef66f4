"""The artifact store over real gRPC: upload, verify, dedupe, quota, download, access."""

from __future__ import annotations

import os

import grpc
import pytest

from proto.hivemind.v1 import artifact_pb2, common_pb2, job_pb2
from tests.kit.stubs import (
    CHUNK,
    Stubs,
    complete,
    download,
    lease,
    make_package,
    register_node,
    sha256,
    submit,
    upload,
)

INPUT = common_pb2.ARTIFACT_KIND_INPUT
RESULT = common_pb2.ARTIFACT_KIND_RESULT
QUOTA = 300_000


@pytest.fixture
def server_settings() -> dict:
    return {"user_quota_bytes": QUOTA, "max_artifact_bytes": 250_000, "chunk_size": 50_000}


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    return Stubs(grpc_channel)


def _files(server) -> list:
    return [p for p in server.settings.artifacts_dir.rglob("*") if p.is_file()]


async def _refused(call, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    return caught.value.details()


async def test_upload_then_download_from_an_offset(server, user_session, stubs):
    alice = await user_session(server, "alice")
    data = os.urandom(3 * CHUNK + 123)
    info = await upload(stubs, alice.metadata, data, INPUT, name="data.bin")
    assert (info.digest, info.size, info.exists) == (sha256(data), len(data), True)
    path = server.settings.artifacts_dir / info.digest[:2] / info.digest[2:4] / info.digest
    assert path.read_bytes() == data
    assert await download(stubs, alice.metadata, info.digest) == data
    assert await download(stubs, alice.metadata, info.digest, offset=100_001) == data[100_001:]
    chunks = [
        c
        async for c in stubs.artifacts.Download(
            artifact_pb2.DownloadRequest(digest=info.digest), metadata=alice.metadata
        )
    ]
    assert [len(c.data) for c in chunks] == [50_000, 50_000, 50_000, len(data) - 150_000]
    assert chunks[1].offset == 50_000 and chunks[0].total_size == len(data)
    stat = await stubs.artifacts.Stat(
        artifact_pb2.StatRequest(digest=info.digest), metadata=alice.metadata
    )
    assert stat.exists and stat.name == "data.bin" and stat.kind == INPUT


async def test_digest_and_size_mismatches_store_nothing(server, user_session, stubs):
    alice = await user_session(server, "alice")
    data = b"some input bytes"
    details = await _refused(
        upload(stubs, alice.metadata, data, INPUT, digest=sha256(b"other")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert details.startswith("upload digest mismatch") and "nothing stored" in details
    details = await _refused(
        upload(stubs, alice.metadata, data, INPUT, size=len(data) + 5),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert f"ended after {len(data)} of {len(data) + 5} declared bytes" in details
    details = await _refused(
        upload(stubs, alice.metadata, data, INPUT, size=4), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert "larger than its declared size of 4 bytes" in details
    assert _files(server) == []
    assert list((server.settings.artifacts_dir / "tmp").iterdir()) == []


async def test_quota_and_max_size_are_enforced(server, user_session, stubs):
    alice = await user_session(server, "alice")
    await upload(stubs, alice.metadata, os.urandom(200_000), INPUT)
    details = await _refused(
        upload(stubs, alice.metadata, os.urandom(150_000), INPUT),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    )
    assert details == (
        f"storage quota exceeded: 200000 of {QUOTA} bytes used, this upload needs 150000 more"
    )
    details = await _refused(
        upload(stubs, alice.metadata, os.urandom(260_000), INPUT),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "larger than the server's limit of 250000 bytes" in details
    assert len(_files(server)) == 1
    # Someone else's quota is their own.
    bob = await user_session(server, "bob")
    await upload(stubs, bob.metadata, os.urandom(150_000), INPUT)


async def test_same_content_is_stored_once_and_owned_by_both(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    data = os.urandom(10_000)
    first = await upload(stubs, alice.metadata, data, INPUT)
    second = await upload(stubs, bob.metadata, data, INPUT)
    again = await upload(stubs, alice.metadata, data, INPUT)
    assert first.digest == second.digest == again.digest
    assert len(_files(server)) == 1
    assert await download(stubs, bob.metadata, first.digest) == data


async def test_others_cannot_see_or_read_an_artifact(server, user_session, stubs):
    alice = await user_session(server, "alice")
    mallory = await user_session(server, "mallory")
    info = await upload(stubs, alice.metadata, b"secret", INPUT)
    stat = await stubs.artifacts.Stat(
        artifact_pb2.StatRequest(digest=info.digest), metadata=mallory.metadata
    )
    assert not stat.exists and stat.size == 0
    details = await _refused(
        download(stubs, mallory.metadata, info.digest), grpc.StatusCode.NOT_FOUND
    )
    assert details == f"no artifact {info.digest}"
    # Knowing the digest is not enough to claim the content: the bytes must be sent.
    await _refused(
        upload(stubs, mallory.metadata, b"", INPUT, digest=info.digest, size=6),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    await _refused(download(stubs, mallory.metadata, info.digest), grpc.StatusCode.NOT_FOUND)


async def test_who_uploads_what(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    details = await _refused(
        upload(stubs, alice.metadata, b"out", common_pb2.ARTIFACT_KIND_RESULT),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert details == "only a node uploads task results"
    await _refused(upload(stubs, node.metadata, b"in", INPUT), grpc.StatusCode.PERMISSION_DENIED)
    await _refused(
        upload(stubs, alice.metadata, b"img", common_pb2.ARTIFACT_KIND_RUNTIME),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    result = await upload(stubs, node.metadata, b"out", common_pb2.ARTIFACT_KIND_RESULT)
    assert result.exists
    assert await download(stubs, node.metadata, result.digest) == b"out"


async def test_bad_requests(server, user_session, stubs):
    alice = await user_session(server, "alice")
    info = await upload(stubs, alice.metadata, b"abc", INPUT)
    await _refused(
        download(stubs, alice.metadata, info.digest, offset=4), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert await download(stubs, alice.metadata, info.digest, offset=3) == b""
    details = await _refused(
        stubs.artifacts.Stat(artifact_pb2.StatRequest(digest="xyz"), metadata=alice.metadata),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert details == "not a SHA-256 digest: 'xyz' (64 hex digits expected)"

    async def no_header():
        yield artifact_pb2.UploadChunk(data=b"abc")

    details = await _refused(
        stubs.artifacts.Upload(no_header(), metadata=alice.metadata),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "starts with a header" in details
    await _refused(
        stubs.artifacts.GetTorrent(
            artifact_pb2.GetTorrentRequest(digest="xyz"), metadata=alice.metadata
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_empty_artifact(server, user_session, stubs):
    alice = await user_session(server, "alice")
    info = await upload(stubs, alice.metadata, b"", INPUT)
    assert info.size == 0 and info.exists
    chunks = [
        c
        async for c in stubs.artifacts.Download(
            artifact_pb2.DownloadRequest(digest=info.digest), metadata=alice.metadata
        )
    ]
    assert len(chunks) == 1 and chunks[0].data == b"" and chunks[0].total_size == 0


async def test_accepted_results_stop_counting_against_the_nodes_quota(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    package = await upload(stubs, alice.metadata, make_package())
    await submit(stubs, alice.metadata, package.digest, task_count=2)
    node = await register_node(stubs, bob.metadata)
    leases = await lease(stubs, node, max_tasks=2)
    first = await upload(stubs, node.metadata, os.urandom(200_000), RESULT)
    details = await _refused(
        upload(stubs, node.metadata, os.urandom(200_000), RESULT),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    )
    assert "storage quota exceeded" in details
    [ack] = await complete(stubs, node, [leases[0].attempt_id], result_digest=first.digest)
    assert ack.accepted
    second = await upload(stubs, node.metadata, os.urandom(200_000), RESULT)
    [ack] = await complete(stubs, node, [leases[1].attempt_id], result_digest=second.digest)
    assert ack.accepted
    assert len(await download(stubs, alice.metadata, second.digest)) == 200_000
    results = await stubs.jobs.GetResults(
        job_pb2.GetResultsRequest(job_id=leases[0].job_id), metadata=alice.metadata
    )
    # The completions gave no size: the server records the uploaded artifact's.
    assert [r.result_size for r in results.results] == [200_000, 200_000]
