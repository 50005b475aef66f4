"""The worker's artifact cache: capped in size, least recently used out first, nothing in
use evicted, evicted artifacts no longer shared, and it all survives a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.settings import SettingsStore
from app.services.torrent import ArtifactCache, DigestMismatch, TorrentStalled
from app.services.torrent.cache import CacheFull
from tests.torrent.swarmkit import LOOPBACK, MB, sha256_of, write_artifact

pytestmark = pytest.mark.torrent


def artifacts(tmp_path: Path, count: int, size: int = MB) -> list[tuple[Path, str]]:
    made = []
    for i in range(count):
        path = tmp_path / "downloads" / f"artifact{i}.bin"
        made.append((path, write_artifact(path, size)))
    return made


async def open_cache(session, root: Path, max_bytes: int) -> ArtifactCache:
    return await ArtifactCache(root, max_bytes, session).open()


async def test_the_least_recently_used_artifact_goes_and_stops_being_shared(
    make_session, tmp_path: Path
) -> None:
    worker = await make_session("worker")
    cache = await open_cache(worker, tmp_path / "cache", 3 * MB)
    (a, da), (b, db), (c, dc), (d, dd) = artifacts(tmp_path, 4)
    for path, digest in ((a, da), (b, db), (c, dc)):
        await cache.add(path, digest)
    torrent_b = await cache.torrent_of(db)
    assert worker.seeding_digests() == sorted([da, db, dc])

    assert cache.path(da) is not None  # a task uses a: b is now the least recently used
    await cache.add(d, dd)

    assert db not in cache
    assert not (tmp_path / "cache" / db).exists()
    assert [x in cache for x in (da, dc, dd)] == [True, True, True]
    assert cache.used_bytes == 3 * MB
    assert worker.seeding_digests() == sorted([da, dc, dd])
    # A peer asking the worker for b now gets nothing.
    other = await make_session("other")
    with pytest.raises(TorrentStalled):
        await other.download(
            torrent_b, tmp_path / "other", peers=[(LOOPBACK, worker.listen_port)], stall_timeout_s=1
        )


async def test_artifacts_in_use_are_never_evicted(make_session, tmp_path: Path) -> None:
    worker = await make_session("worker")
    cache = await open_cache(worker, tmp_path / "cache", 2 * MB)
    (a, da), (b, db), (c, dc) = artifacts(tmp_path, 3)
    await cache.add(a, da)
    await cache.add(b, db)

    with cache.hold(da), cache.hold(db):
        with pytest.raises(CacheFull, match="full of artifacts in use"):
            await cache.add(c, dc)
        assert (da in cache, db in cache, dc in cache) == (True, True, False)
    with cache.hold(da):
        await cache.add(c, dc)  # b is free to go now
    assert (da in cache, db in cache, dc in cache) == (True, False, True)


async def test_an_artifact_larger_than_the_cache_is_refused(make_session, tmp_path: Path) -> None:
    worker = await make_session("worker")
    cache = await open_cache(worker, tmp_path / "cache", 1 * MB)
    [(big, digest)] = artifacts(tmp_path, 1, size=2 * MB)
    with pytest.raises(CacheFull, match=r"\(2.0 MB\) is larger than the whole cache \(1.0 MB\)"):
        await cache.add(big, digest)
    assert digest not in cache


async def test_a_file_that_is_not_the_artifact_is_not_taken_in(
    make_session, tmp_path: Path
) -> None:
    worker = await make_session("worker")
    cache = await open_cache(worker, tmp_path / "cache", 4 * MB)
    [(path, digest)] = artifacts(tmp_path, 1)
    wrong = "0" * 64
    with pytest.raises(DigestMismatch, match=f"is not artifact {wrong}: its SHA-256 is {digest}"):
        await cache.add(path, wrong)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["index.json"]
    assert cache.used_bytes == 0
    assert worker.seeding_digests() == []


async def test_a_fetched_artifact_is_cached_and_shared_on(make_session, tmp_path: Path) -> None:
    [(source, digest)] = artifacts(tmp_path, 1, size=3 * MB)
    seeder = await make_session("seeder")
    torrent, _ = await seeder.create_torrent(source)
    await seeder.seed(source, torrent)
    worker = await make_session("worker")
    cache = await open_cache(worker, tmp_path / "cache", 8 * MB)

    path = await cache.fetch(digest, torrent, peers=[(LOOPBACK, seeder.listen_port)])

    assert path == tmp_path / "cache" / digest
    assert sha256_of(path) == digest
    assert await cache.torrent_of(digest) == torrent
    # A third machine gets it from the worker alone.
    await seeder.close()
    late = await make_session("late")
    copy = await late.download(torrent, tmp_path / "late", peers=[(LOOPBACK, worker.listen_port)])
    assert sha256_of(copy) == digest


async def test_the_cache_and_its_order_survive_a_restart(make_session, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    first = await make_session("worker")
    cache = await open_cache(first, root, 3 * MB)
    (a, da), (b, db), (c, dc) = artifacts(tmp_path, 3)
    for path, digest in ((a, da), (b, db), (c, dc)):
        await cache.add(path, digest)
        await asyncio.sleep(0.01)
    cache.path(da)
    await cache.close()
    await first.close()

    again = await make_session("worker")  # same state dir: resume data comes back
    reopened = await open_cache(again, root, 3 * MB)

    assert reopened.digests() == [db, dc, da]
    assert again.seeding_digests() == sorted([da, db, dc])
    assert reopened.used_bytes == 3 * MB


async def test_lowering_the_cache_size_in_settings_evicts_at_once(
    make_session, tmp_path: Path
) -> None:
    store = SettingsStore(tmp_path / "home")
    worker = await make_session("worker")
    cache = await open_cache(worker, tmp_path / "cache", 3 * MB)
    stop_following = cache.follow(store)
    made = artifacts(tmp_path, 3)
    for path, digest in made:
        await cache.add(path, digest)
        await asyncio.sleep(0.01)

    store.update_contributor(cache_max_mb=1)
    for _ in range(100):
        if cache.used_bytes <= MB:
            break
        await asyncio.sleep(0.05)
    stop_following()

    assert cache.digests() == [made[2][1]]  # the most recently added stays
    assert worker.seeding_digests() == [made[2][1]]
