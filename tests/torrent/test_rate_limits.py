"""Bandwidth limits hold within 20%, on loopback too, and the contributor's sliders apply
to a running session without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.settings import SettingsStore
from app.services.torrent import TorrentSession
from tests.torrent.swarmkit import LOOPBACK, MB, write_artifact

pytestmark = [pytest.mark.torrent, pytest.mark.slow]


async def timed_download(worker: TorrentSession, torrent: bytes, seeder_port: int, dest: Path):
    """Downloads and returns the rate (bytes/s) from 10% done to the end: what a user sees
    once the transfer got going (the first second goes to connecting and slow start)."""
    loop = asyncio.get_running_loop()
    samples: list[tuple[float, int]] = []
    await worker.download(
        torrent,
        dest,
        peers=[(LOOPBACK, seeder_port)],
        progress=lambda done, total: samples.append((loop.time(), done)),
    )
    total = samples[-1][1]
    start_at, start_done = next((t, d) for t, d in samples if d >= total * 0.1)
    end_at, end_done = samples[-1]
    return (end_done - start_done) / (end_at - start_at)


async def test_an_upload_limit_holds_for_a_peer_on_loopback(make_session, tmp_path: Path) -> None:
    source = tmp_path / "input.bin"
    write_artifact(source, 10 * MB)
    seeder = await make_session("seeder", upload_rate=2 * MB)
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    worker = await make_session("worker")

    rate = await timed_download(worker, torrent, seeder.listen_port, tmp_path / "dl")

    assert 0.8 * 2 * MB <= rate <= 1.2 * 2 * MB, f"{rate / MB:.2f} MB/s"


async def test_the_contributors_download_slider_applies_live(make_session, tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "home")
    source = tmp_path / "input.bin"
    write_artifact(source, 10 * MB)
    seeder = await make_session("seeder")
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    worker = await make_session("worker")  # unlimited at first
    stop_following = worker.follow(store)

    store.update_contributor(download_kbps=2048)  # the UI's KB/s: 2 MB/s, while it runs
    rate = await timed_download(worker, torrent, seeder.listen_port, tmp_path / "dl")
    stop_following()

    assert worker.settings.download_rate == 2 * MB
    assert 0.8 * 2 * MB <= rate <= 1.2 * 2 * MB, f"{rate / MB:.2f} MB/s"
