"""Resume data saved on shutdown and loaded at start: a cut-short download continues where
it stopped, and what was complete is shared again at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.torrent import SessionClosed
from tests.torrent.swarmkit import LOOPBACK, MB, sha256_of, write_artifact

pytestmark = pytest.mark.torrent


async def test_a_download_cut_short_continues_where_it_stopped(
    make_session, tmp_path: Path
) -> None:
    size = 10 * MB
    source = tmp_path / "input.bin"
    digest = write_artifact(source, size)
    seeder = await make_session("seeder", upload_rate=4 * MB)
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    cache = tmp_path / "worker" / "cache"
    worker = await make_session("worker")
    halfway = asyncio.Event()

    def progress(done: int, total: int) -> None:
        if done >= total * 0.4:
            halfway.set()

    fetching = asyncio.create_task(
        worker.download(torrent, cache, peers=[(LOOPBACK, seeder.listen_port)], progress=progress)
    )
    await asyncio.wait_for(halfway.wait(), 30)
    await worker.close()  # the machine shuts down mid-transfer
    with pytest.raises(SessionClosed):
        await fetching

    seeder.set_rate_limits(0, 0)
    restarted = await make_session("worker")  # the same state dir
    assert restarted.known_digests() == [digest]
    assert restarted.seeding_digests() == []  # not complete, not verified: not shared yet
    path = await restarted.download(torrent, cache, peers=[(LOOPBACK, seeder.listen_port)])

    assert sha256_of(path) == digest
    fetched_again = (await restarted.stats()).downloaded_bytes
    assert fetched_again <= 0.7 * size, f"fetched {fetched_again / size:.0%} again"


async def test_a_complete_artifact_is_shared_again_right_after_a_restart(
    make_session, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    digest = write_artifact(source, 2 * MB)
    seeder = await make_session("seeder")
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    worker = await make_session("worker")
    await worker.download(torrent, tmp_path / "cache", peers=[(LOOPBACK, seeder.listen_port)])
    await worker.close()
    await seeder.close()

    restarted = await make_session("worker")

    assert restarted.seeding_digests() == [digest]
    late = await make_session("late")
    copy = await late.download(
        torrent, tmp_path / "late", peers=[(LOOPBACK, restarted.listen_port)]
    )
    assert sha256_of(copy) == digest


async def test_resume_data_of_an_artifact_deleted_meanwhile_is_dropped(
    make_session, tmp_path: Path
) -> None:
    source = tmp_path / "input.bin"
    write_artifact(source, 1 * MB)
    worker = await make_session("worker")
    torrent, _ = await worker.create_torrent(source)
    await worker.seed(source, torrent)
    await worker.close()
    source.unlink()  # someone cleaned up while the app was closed

    restarted = await make_session("worker")

    assert restarted.known_digests() == []
    assert list((tmp_path / "worker" / "state").iterdir()) == []
