"""Every cache a stranger's requests fill is bounded. Once 150 uploads of 16 KB packages grew
the server by 95 MB: the parsed manifest of each was kept for ever. Now what is kept is small
and the least recently used entries leave; the seeder keeps few torrents in its session.
(60 uploads here: enough to tell 50 MB from nothing, in a few seconds.)"""

from __future__ import annotations

import gc

import psutil
import pytest

from common.bounded import BoundedCache
from proto.hivemind.v1 import artifact_pb2, common_pb2
from tests.kit.stubs import make_zip, register_node, submit, upload

# 3,600 keys of small arrays: about 63 KB of TOML (under the 64 KB a manifest may hold), 20 KB
# zipped, and about 0.8 MB of Python objects once parsed.
WIDE_MANIFEST = "".join(f"k{i}=[{i},{i + 1}]\n" for i in range(3600)).encode()


def wide_package(n: int) -> bytes:
    return make_zip({"hivemind.toml": WIDE_MANIFEST, "main.py": f"print({n})\n".encode()})


@pytest.fixture
def server_settings() -> dict:
    return {"bittorrent": False}


async def test_package_uploads_do_not_grow_the_server(server, user_session, stubs):
    mallory = await user_session(server, "mallory")
    store = server.ctx.artifacts
    store.valid_packages = BoundedCache(20)  # a small cap, to see it hold
    assert len(wide_package(0)) < 24 * 1024
    await upload(stubs, mallory.metadata, wide_package(-1))  # warm up the code paths
    gc.collect()
    before = psutil.Process().memory_info().rss
    digests = [(await upload(stubs, mallory.metadata, wide_package(n))).digest for n in range(60)]
    gc.collect()
    grown = psutil.Process().memory_info().rss - before
    # Kept, the parsed manifests alone would take about 50 MB.
    assert grown < 10 * 1024 * 1024, f"the server grew by {grown} bytes"
    assert len(store.valid_packages) == 20
    assert all(info.manifest == {} for info in store.valid_packages.values())
    # A package that left the cache is checked again when a job uses it: nothing breaks.
    job = await submit(stubs, mallory.metadata, digests[0])
    assert job.tasks_total == 1


@pytest.mark.torrent
@pytest.mark.parametrize("server_settings", [{"bt_max_seeded_torrents": 3}])
async def test_the_seeder_keeps_few_torrents_and_seeds_old_ones_again(
    server_settings, server, user_session, stubs
):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    results = [
        await upload(
            stubs, node.metadata, f"result {n}".encode() * 1000, common_pb2.ARTIFACT_KIND_RESULT
        )
        for n in range(6)
    ]
    seeder = server.ctx.seeder
    for result in results:
        offer = await stubs.artifacts.GetTorrent(
            artifact_pb2.GetTorrentRequest(digest=result.digest), metadata=node.metadata
        )
        assert offer.digest == result.digest
        assert len(seeder.seeding_digests()) <= 3
    assert set(seeder.seeding_digests()) == {r.digest for r in results[3:]}
    # The first one left the session; asked for again, it is seeded again.
    again = await stubs.artifacts.GetTorrent(
        artifact_pb2.GetTorrentRequest(digest=results[0].digest), metadata=node.metadata
    )
    assert again.torrent and results[0].digest in seeder.seeding_digests()
    assert len(seeder.seeding_digests()) == 3


def test_a_bounded_cache_drops_the_least_recently_used_and_the_expired():
    now = [0.0]
    cache: BoundedCache[str, int] = BoundedCache(3, ttl_s=10, clock=lambda: now[0])
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        assert cache.put(key, value) == []
    assert cache.get("a") == 1  # now the most recently used
    assert cache.put("d", 4) == [("b", 2)]
    assert list(cache) == ["c", "a", "d"] and len(cache) == 3
    now[0] = 11.0
    assert cache.get("c") is None and "a" not in cache
    assert cache.setdefault("e", lambda: 5) == 5
    with pytest.raises(ValueError):
        BoundedCache(0)
