"""The server's seeder: torrents made once and kept in the database, every stored artifact
seeded again after a restart, and results pulled from workers (verified, or refused)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services.torrent import make_torrent as worker_make_torrent
from server.errors import FailedPrecondition, InvalidArgument, NotFound
from server.store.schema import artifacts
from server.torrent import Seeder
from tests.torrent.swarmkit import LOOPBACK, MB, sha256_of, write_artifact

pytestmark = pytest.mark.torrent


def stored_torrent(world, digest: str) -> bytes | None:
    return world.db.transaction_sync(
        lambda conn: conn.execute(
            select(artifacts.c.torrent).where(artifacts.c.digest == digest)
        ).scalar_one()
    )


async def test_a_stored_artifact_gets_one_torrent_that_workers_download(
    seeder_world, make_session, tmp_path: Path
) -> None:
    digest = seeder_world.store(3 * MB + 7)
    seeder = await seeder_world.seeder()
    assert stored_torrent(seeder_world, digest) is None

    seed = await seeder.torrent_for(digest)

    assert stored_torrent(seeder_world, digest) == seed.torrent
    assert (await seeder.torrent_for(digest)).torrent == seed.torrent  # made once
    assert seeder.seeding_digests() == [digest]
    # The worker's own torrent of the same bytes is the very same one: one swarm.
    assert worker_make_torrent(seeder_world.path_for(digest)).info_hash == seed.info_hash
    worker = await make_session("worker")
    path = await worker.download(seed.torrent, tmp_path / "cache", peers=[(LOOPBACK, seeder.port)])
    assert sha256_of(path) == digest


async def test_a_restarted_seeder_seeds_what_it_stored_without_being_asked(seeder_world) -> None:
    first, second = seeder_world.store(MB), seeder_world.store(MB)
    seeder = await seeder_world.seeder()
    await seeder.torrent_for(first)
    await seeder.torrent_for(second)
    await seeder.close()

    again = await seeder_world.seeder()

    assert again.seeding_digests() == sorted([first, second])


async def test_unknown_or_damaged_artifacts_get_clear_errors(seeder_world) -> None:
    seeder = await seeder_world.seeder()
    with pytest.raises(NotFound, match="no artifact " + "e" * 64):
        await seeder.torrent_for("e" * 64)
    digest = seeder_world.store(MB)
    with seeder_world.path_for(digest).open("r+b") as damaged:
        damaged.write(b"rot")
    with pytest.raises(FailedPrecondition, match=f"copy of artifact {digest} is damaged"):
        await seeder.torrent_for(digest)
    assert stored_torrent(seeder_world, digest) is None
    assert seeder.seeding_digests() == []


async def test_the_server_pulls_a_result_a_worker_seeds(
    seeder_world, make_session, tmp_path: Path
) -> None:
    result = tmp_path / "worker" / "result.zip"
    digest = write_artifact(result, 5 * MB)
    worker = await make_session("worker")
    torrent, _ = await worker.create_torrent(result)
    await worker.seed(result, torrent)
    seeder = await seeder_world.seeder()
    incoming = seeder_world.settings.artifacts_dir / "tmp"

    pulled = await seeder.pull(torrent, [(LOOPBACK, worker.listen_port)], incoming)

    assert pulled == incoming / digest
    assert sha256_of(pulled) == digest
    assert seeder.seeding_digests() == []  # it is seeded once the store holds it


async def test_the_server_pulls_over_the_connection_the_worker_dialled(
    seeder_world, make_session, tmp_path: Path
) -> None:
    # Behind NAT the server cannot dial the worker: the worker connects to the server's BT
    # port and the server downloads over that connection.
    result = tmp_path / "worker" / "result.zip"
    digest = write_artifact(result, 2 * MB)
    worker = await make_session("worker")
    torrent, _ = await worker.create_torrent(result)
    await worker.seed(result, torrent)
    seeder = await seeder_world.seeder()

    pulling = asyncio.create_task(
        seeder.pull(torrent, [], seeder_world.settings.artifacts_dir / "tmp", stall_timeout_s=20)
    )
    while not pulling.done():
        await worker.add_peers(digest, [(LOOPBACK, seeder.port)])
        await asyncio.wait({pulling}, timeout=0.5)

    assert sha256_of(pulling.result()) == digest


async def test_a_pull_that_stalls_or_brings_the_wrong_bytes_keeps_nothing(
    seeder_world, make_session, tmp_path: Path
) -> None:
    result = tmp_path / "worker" / "result.zip"
    digest = write_artifact(result, 1 * MB)
    worker = await make_session("worker")
    torrent, _ = await worker.create_torrent(result)
    seeder = await seeder_world.seeder()
    incoming = seeder_world.settings.artifacts_dir / "tmp"

    with pytest.raises(FailedPrecondition, match="no BitTorrent progress for 1 s pulling"):
        await seeder.pull(torrent, [(LOOPBACK, worker.listen_port)], incoming, stall_timeout_s=1)
    assert not (incoming / digest).exists()

    await worker.seed(result, torrent)
    wrong = "f" * 64
    with pytest.raises(InvalidArgument, match=f"not artifact {wrong}"):
        await seeder.pull(
            torrent, [(LOOPBACK, worker.listen_port)], incoming, expected_sha256=wrong
        )
    assert not (incoming / digest).exists()


async def test_the_endpoint_leaves_the_host_to_the_client_when_listening_everywhere(
    seeder_world,
) -> None:
    seeder_world.settings.listen = "0.0.0.0:0"
    seeder = await seeder_world.seeder()
    assert seeder.endpoint == f":{seeder.port}"
    assert seeder.port > 0
    loopback = Seeder(seeder_world.settings, seeder_world.db, seeder_world.path_for)
    loopback.host = LOOPBACK
    assert loopback.endpoint == f"{LOOPBACK}:0"
