"""What arrives over BitTorrent is used only when it is the artifact asked for, and a
swarm that delivers nothing ends in a clear error the caller can fall back on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.torrent import DigestMismatch, InvalidTorrent, TorrentStalled
from tests.torrent.swarmkit import LOOPBACK, MB, write_artifact

pytestmark = pytest.mark.torrent


async def test_a_file_that_is_not_the_asked_digest_is_deleted_and_never_returned(
    make_session, tmp_path: Path
) -> None:
    # A torrent made of other bytes than the artifact the worker asked for (a lying or
    # broken server): every piece checks out, only the whole-file SHA-256 catches it.
    wanted = "ab" * 32
    impostor = tmp_path / "impostor.bin"
    write_artifact(impostor, 3 * MB)
    seeder = await make_session("seeder")
    torrent, _ = await seeder.create_torrent(impostor)
    await seeder.seed(impostor, torrent)
    worker = await make_session("worker")
    cache = tmp_path / "worker" / "cache"

    with pytest.raises(DigestMismatch, match=f"artifact {wanted}.*deleted"):
        await worker.download(
            torrent, cache, peers=[(LOOPBACK, seeder.listen_port)], expected_sha256=wanted
        )

    assert list(cache.iterdir()) == []
    assert worker.seeding_digests() == []
    assert worker.known_digests() == []


async def test_a_peer_serving_damaged_pieces_gets_nothing_used(
    make_session, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    write_artifact(source, 2 * MB)
    seeder = await make_session("seeder")
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    # The seeder's copy rots after it was vouched for: every piece now fails its check.
    with source.open("r+b") as damaged:
        damaged.write(b"\0" * (2 * MB))
    worker = await make_session("worker")
    cache = tmp_path / "worker" / "cache"

    with pytest.raises(TorrentStalled, match="no BitTorrent progress for 2 s"):
        await worker.download(
            torrent, cache, peers=[(LOOPBACK, seeder.listen_port)], stall_timeout_s=2
        )

    assert not any(p.is_file() and p.stat().st_size for p in cache.iterdir())
    assert worker.seeding_digests() == []


async def test_a_swarm_without_peers_stalls_with_a_clear_error(
    make_session, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    digest = write_artifact(source, 1 * MB)
    maker = await make_session("maker")
    torrent, _ = await maker.create_torrent(source)  # made, but nobody seeds it
    worker = await make_session("worker")
    cache = tmp_path / "worker" / "cache"
    loop = asyncio.get_running_loop()
    began = loop.time()

    with pytest.raises(TorrentStalled) as stalled:
        await worker.download(torrent, cache, peers=[], stall_timeout_s=1.5)

    assert loop.time() - began < 10
    message = str(stalled.value)
    assert message.startswith("no BitTorrent progress for 1.5 s on artifact " + digest)
    assert "0% of 1048576 bytes, 0 peers connected" in message
    assert worker.known_digests() == []  # nothing left behind to resume
    assert not (cache / digest).exists()


async def test_malformed_metadata_is_refused_before_anything_starts(
    make_session, tmp_path: Path
) -> None:
    worker = await make_session("worker")
    with pytest.raises(InvalidTorrent, match="malformed"):
        await worker.download(b"d4:infoi3ee", tmp_path / "cache")
    with pytest.raises(InvalidTorrent, match="no torrent metadata"):
        await worker.download(b"", tmp_path / "cache")
    assert worker.known_digests() == []
