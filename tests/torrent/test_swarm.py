"""An artifact spreads through a swarm of real sessions on 127.0.0.1, intact, and the
server does not send it once per worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.torrent.swarmkit import LOOPBACK, MB, sha256_of, write_artifact

pytestmark = pytest.mark.torrent


async def test_a_seeded_file_reaches_four_sessions_intact(make_session, tmp_path: Path) -> None:
    source = tmp_path / "package.zip"
    digest = write_artifact(source, 8 * MB + 12345)  # not a whole number of pieces
    seeder = await make_session("seeder")
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    workers = [await make_session(f"worker{i}") for i in range(4)]

    paths = await asyncio.gather(
        *(
            worker.download(
                torrent,
                tmp_path / f"worker{i}" / "cache",
                peers=[(LOOPBACK, seeder.listen_port)],
            )
            for i, worker in enumerate(workers)
        )
    )

    for i, path in enumerate(paths):
        assert path == tmp_path / f"worker{i}" / "cache" / digest
        assert path.stat().st_size == 8 * MB + 12345
        assert sha256_of(path) == digest
    # Every worker keeps sharing what it fetched.
    for worker in workers:
        assert worker.seeding_digests() == [digest]


@pytest.mark.slow
async def test_workers_serve_each_other_so_the_server_sends_under_twice_the_size(
    seeder_world, make_session, tmp_path: Path
) -> None:
    size = 64 * MB
    digest = seeder_world.store(size)
    seeder = await seeder_world.seeder()
    seed = await seeder.torrent_for(digest)
    workers = [await make_session(f"worker{i}") for i in range(4)]
    server_peer = (LOOPBACK, seeder.port)

    async def fetch(i: int) -> Path:
        # Each worker is told about the server and about the workers before it; a peer
        # connection goes both ways, so every pair ends up connected.
        others = [(LOOPBACK, w.listen_port) for w in workers[:i]]
        return await workers[i].download(
            seed.torrent, tmp_path / f"worker{i}" / "cache", peers=[server_peer, *others]
        )

    paths = await asyncio.gather(*(fetch(i) for i in range(4)))

    assert all(sha256_of(path) == digest for path in paths)
    sent = (await seeder.stats()).uploaded_bytes
    assert sent < 2 * size, f"the server sent {sent / size:.2f}x the artifact"
    received_from_peers = sum([(await w.stats()).uploaded_bytes for w in workers])
    assert received_from_peers > 0.5 * size  # the workers really traded pieces
