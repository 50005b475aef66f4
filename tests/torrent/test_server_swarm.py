"""Against a real server: GetTorrent hands out an artifact's torrent and peers, clients fetch
it over BitTorrent, and every way BitTorrent can fail leaves the gRPC stream to do the job."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.client.transfer import download_artifact, upload_file
from app.services.settings import SettingsStore
from app.services.torrent.fetch import TorrentFetcher
from proto.hivemind.v1 import artifact_pb2, common_pb2
from tests.torrent.swarmkit import LOOPBACK, MB, sha256_of, write_artifact

pytestmark = pytest.mark.torrent
PASSWORD = "torrent tests password"


@pytest.fixture
async def people(tmp_path: Path) -> AsyncIterator[list]:
    """Closes every (ClientSession, TorrentFetcher) made in a test."""
    made: list = []
    yield made
    for session, fetcher in made:
        await fetcher.close()
        await session.close()


async def person(server, tmp_path: Path, people: list, name: str, register: bool = True):
    home = tmp_path / "homes" / name
    store = SettingsStore(home)
    session = ClientSession(store, CredentialStore(home, backend="file"), server=server.address)
    if register:
        await session.register(name, PASSWORD)
    else:
        await session.login("alice", PASSWORD)
    fetcher = await TorrentFetcher.open(store, server.address, listen_interface=LOOPBACK)
    people.append((session, fetcher))
    return session, fetcher


async def test_an_uploaded_artifact_travels_by_torrent(server, tmp_path: Path, people) -> None:
    source = tmp_path / "input.bin"
    digest = write_artifact(source, 4 * MB + 3)
    alice, _ = await person(server, tmp_path, people, "alice")
    await upload_file(alice.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)

    offer = await alice.artifacts.GetTorrent(artifact_pb2.GetTorrentRequest(digest=digest))
    assert offer.digest == digest and len(offer.info_hash) == 40
    assert [p.endpoint for p in offer.peers] == [f"{LOOPBACK}:{server.ctx.seeder.port}"]

    readers = [await person(server, tmp_path, people, f"alice{i}", register=False) for i in (1, 2)]
    for i, (session, fetcher) in enumerate(readers):
        dest = tmp_path / f"reader{i}" / "input.bin"
        assert await fetcher.fetch(session.artifacts, digest, dest) == dest
        assert sha256_of(dest) == digest
        assert fetcher.seeding_digests() == [digest]  # and shares it on


async def test_strangers_get_no_torrent(server, tmp_path: Path, people) -> None:
    source = tmp_path / "input.bin"
    digest = write_artifact(source, MB)
    alice, _ = await person(server, tmp_path, people, "alice")
    await upload_file(alice.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)
    mallory, fetcher = await person(server, tmp_path, people, "mallory")

    with pytest.raises(ClientError) as refused:
        await mallory.artifacts.GetTorrent(artifact_pb2.GetTorrentRequest(digest=digest))
    assert refused.value.code == grpc.StatusCode.NOT_FOUND
    assert await fetcher.fetch(mallory.artifacts, digest, tmp_path / "x") is None


@pytest.mark.parametrize("server_settings", [{"bittorrent": False}])
async def test_with_bittorrent_off_the_grpc_stream_delivers(
    server, tmp_path: Path, people, caplog
) -> None:
    source = tmp_path / "input.bin"
    digest = write_artifact(source, 2 * MB)
    alice, fetcher = await person(server, tmp_path, people, "alice")
    await upload_file(alice.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)
    dest = tmp_path / "fetched" / "input.bin"

    with caplog.at_level(logging.INFO, logger="hivemind.torrent"):
        assert await fetcher.fetch(alice.artifacts, digest, dest) is None
    assert "BitTorrent is off on this server" in caplog.text
    assert "using gRPC" in caplog.text
    await download_artifact(alice.artifacts, digest, dest)
    assert sha256_of(dest) == digest


async def test_an_unreachable_swarm_falls_back_to_grpc(server, tmp_path: Path, people, caplog):
    source = tmp_path / "input.bin"
    digest = write_artifact(source, 2 * MB)
    alice, fetcher = await person(server, tmp_path, people, "alice")
    await upload_file(alice.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)
    offer = await alice.artifacts.GetTorrent(artifact_pb2.GetTorrentRequest(digest=digest))
    fetcher.session.settings.stall_timeout_s = 1.5
    await server.ctx.seeder.close()  # the server's BT port goes dark

    with caplog.at_level(logging.WARNING, logger="hivemind.torrent"):
        assert await fetcher.from_swarm(digest, offer.torrent, [(LOOPBACK, 9)]) is None
    assert "no BitTorrent progress for 1.5 s" in caplog.text
    assert "falling back to gRPC" in caplog.text
    dest = tmp_path / "fetched" / "input.bin"
    await download_artifact(alice.artifacts, digest, dest)
    assert sha256_of(dest) == digest
