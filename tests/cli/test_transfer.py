"""Artifact upload and download through the session against a real server; and a session
riding out a server restart."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.client.transfer import TransferError, download_artifact, upload_file
from app.services.settings import SettingsStore
from proto.hivemind.v1 import account_pb2, common_pb2
from tests.kit.accounts import PASSWORD

CHUNK = 64 * 1024


@pytest.fixture
def server_settings() -> dict:
    return {"chunk_size": CHUNK}  # several chunks for a small file


@pytest.fixture
async def session(server, hivemind_home):
    async with ClientSession(
        SettingsStore(hivemind_home), CredentialStore(hivemind_home), server.address
    ) as session:
        await session.register("alice", PASSWORD)
        yield session


def payload(size: int) -> bytes:
    return os.urandom(size)


async def test_upload_then_download_round_trip(session, tmp_path):
    data = payload(5 * CHUNK + 123)
    source = tmp_path / "input.bin"
    source.write_bytes(data)
    calls: list[tuple[int, int]] = []

    kind = common_pb2.ARTIFACT_KIND_INPUT
    info = await upload_file(session.artifacts, source, kind, progress=lambda *p: calls.append(p))

    assert info.digest == hashlib.sha256(data).hexdigest() and info.size == len(data)
    assert calls[-1] == (len(data), len(data))
    again: list[tuple[int, int]] = []
    second = await upload_file(session.artifacts, source, kind, progress=lambda *p: again.append(p))
    assert second.digest == info.digest
    assert again == [(len(data), len(data))]  # the server had it: nothing was sent

    dest = tmp_path / "out" / "copy.bin"
    assert await download_artifact(session.artifacts, info.digest, dest) == dest
    assert dest.read_bytes() == data
    assert not dest.with_name("copy.bin.part").exists()


async def test_download_resumes_a_partial_file(session, tmp_path):
    data = payload(6 * CHUNK)
    source = tmp_path / "input.bin"
    source.write_bytes(data)
    info = await upload_file(session.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)
    dest = tmp_path / "copy.bin"
    dest.with_name("copy.bin.part").write_bytes(data[: 4 * CHUNK])
    seen: list[int] = []

    await download_artifact(
        session.artifacts, info.digest, dest, lambda done, total: seen.append(done)
    )

    assert dest.read_bytes() == data
    assert seen[0] > 4 * CHUNK  # only the missing two chunks travelled
    assert seen[-1] == len(data)


async def test_corrupt_partial_file_is_detected_and_discarded(session, tmp_path):
    data = payload(3 * CHUNK)
    source = tmp_path / "input.bin"
    source.write_bytes(data)
    info = await upload_file(session.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)
    dest = tmp_path / "copy.bin"
    part = dest.with_name("copy.bin.part")
    part.write_bytes(b"x" * CHUNK)  # not the artifact's first bytes

    with pytest.raises(TransferError, match="does not match its digest"):
        await download_artifact(session.artifacts, info.digest, dest)

    assert not part.exists() and not dest.exists()
    await download_artifact(session.artifacts, info.digest, dest)  # a clean retry works
    assert dest.read_bytes() == data


async def test_session_rides_out_a_server_restart(server_process, hivemind_home):
    proc = await server_process()
    settings, credentials = SettingsStore(hivemind_home), CredentialStore(hivemind_home)
    # Enough attempts (jittered backoff, capped at 4 s) to cover a slow restart on a busy box.
    async with ClientSession(settings, credentials, proc.address, retry_attempts=8) as session:
        await session.register("alice", PASSWORD)
        await proc.kill()

        async def restart_soon() -> None:
            await asyncio.sleep(0.3)
            await proc.start()

        restart = asyncio.create_task(restart_soon())
        balance = await session.account.GetBalance(account_pb2.GetBalanceRequest())
        await restart

    assert balance.starter_ucpt == proc.settings.signup_grant_ucpt
