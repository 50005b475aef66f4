"""The worker's artifact cache: verified artifacts as `<root>/<digest>` (with their torrent as
`<digest>.torrent`), never more than `max_bytes` together. When room is needed the least
recently used artifacts go first, and stop being seeded as they go; artifacts in use
(`hold`) never go. What the cache holds is always verified: downloads land here only after
their SHA-256 matched, and files added from elsewhere are hashed on the way in.

`<root>/index.json` keeps sizes and last use across restarts. Runs on the event loop; file
work happens in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from app.services.settings import ClientSettings, SettingsStore
from app.services.torrent.addressing import Peer
from app.services.torrent.errors import DigestMismatch, InvalidTorrent
from app.services.torrent.metainfo import make_torrent, read_torrent
from app.services.torrent.session import TorrentSession
from app.services.torrent.transfer import ProgressCallback
from common.digests import is_digest

log = logging.getLogger("hivemind.cache")

MB = 1024 * 1024
INDEX = "index.json"


class CacheFull(Exception):
    """An artifact does not fit, even after evicting everything not in use."""


@dataclass
class CacheEntry:
    digest: str
    size: int
    last_used: float


class ArtifactCache:
    def __init__(self, root: Path, max_bytes: int, session: TorrentSession | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.session = session
        self._entries: dict[str, CacheEntry] = {}
        self._held: dict[str, int] = {}
        self._incoming: dict[str, int] = {}  # downloads under way: their room is reserved
        self._lock = asyncio.Lock()  # one make-room decision at a time
        self._trimming: set[asyncio.Task[list[str]]] = set()

    # -- opening ---------------------------------------------------------------------------

    async def open(self) -> ArtifactCache:
        """Loads the index, forgets entries whose files vanished, deletes leftovers, seeds
        every cached artifact and trims the cache to its cap."""
        self._entries = await asyncio.to_thread(self._read_index)
        if self.session is not None:
            await self._adopt_session_seeds()
        busy = set(self.session.known_digests()) if self.session else set()
        await asyncio.to_thread(self._remove_leftovers, busy)
        if self.session is not None:
            for entry in list(self._entries.values()):
                if not self.session.is_seeding(entry.digest):
                    await self._seed(entry.digest)
        await self.make_room(0)
        await self._save_index()
        return self

    async def _adopt_session_seeds(self) -> None:
        """Takes in downloads that the session resumed and finished on its own."""
        for digest in self.session.seeding_digests():
            path = self.root / digest
            torrent = self.session.torrent_of(digest)
            if digest in self._entries or self.session.path_of(digest) != path or not torrent:
                continue
            size = (await asyncio.to_thread(path.stat)).st_size
            await asyncio.to_thread(self.torrent_path(digest).write_bytes, torrent)
            self._remember(digest, size)

    def _read_index(self) -> dict[str, CacheEntry]:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            raw = json.loads((self.root / INDEX).read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("cache index unreadable, starting empty: %s", exc)
            return {}
        entries: dict[str, CacheEntry] = {}
        for item in raw.get("entries", []):
            try:
                entry = CacheEntry(str(item["digest"]), int(item["size"]), float(item["last_used"]))
            except (KeyError, TypeError, ValueError):
                continue
            path = self.root / entry.digest
            if is_digest(entry.digest) and path.is_file() and path.stat().st_size == entry.size:
                entries[entry.digest] = entry
        return entries

    def _remove_leftovers(self, keep: set[str]) -> None:
        """Deletes files that are neither cached entries nor transfers the session resumed
        (say, a download cut short by a crash)."""
        for path in self.root.iterdir():
            digest = path.name.removesuffix(".torrent")
            if path.name == INDEX or digest in self._entries or digest in keep:
                continue
            with contextlib.suppress(OSError):
                if path.is_file():
                    path.unlink()

    # -- looking up ------------------------------------------------------------------------

    def __contains__(self, digest: object) -> bool:
        return digest in self._entries

    def path(self, digest: str) -> Path | None:
        """The cached artifact's file (and it becomes the most recently used), or None."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        entry.last_used = time.time()
        return self.root / digest

    def torrent_path(self, digest: str) -> Path:
        return self.root / f"{digest}.torrent"

    @property
    def used_bytes(self) -> int:
        return sum(e.size for e in self._entries.values()) + sum(self._incoming.values())

    def digests(self) -> list[str]:
        """Cached digests, least recently used first."""
        return [e.digest for e in sorted(self._entries.values(), key=lambda e: e.last_used)]

    @contextlib.contextmanager
    def hold(self, digest: str) -> Iterator[Path]:
        """Keeps the artifact from eviction while a task uses it."""
        path = self.path(digest)
        if path is None:
            raise KeyError(f"artifact {digest} is not in the cache")
        self._held[digest] = self._held.get(digest, 0) + 1
        try:
            yield path
        finally:
            self._held[digest] -= 1
            if not self._held[digest]:
                del self._held[digest]

    # -- filling ---------------------------------------------------------------------------

    async def fetch(
        self,
        digest: str,
        torrent: bytes,
        peers: Iterable[Peer] = (),
        progress: ProgressCallback | None = None,
        *,
        stall_timeout_s: float | None = None,
        reserve_peers: Iterable[Peer] = (),
    ) -> Path:
        """The artifact, from the cache or else from the swarm (verified, then seeded).
        Raises what `TorrentSession.download` raises, or CacheFull."""
        cached = self.path(digest)
        if cached is not None:
            return cached
        if self.session is None:
            raise InvalidTorrent("this cache has no BitTorrent session to fetch with")
        _, summary = read_torrent(torrent)
        if summary.name != digest:
            raise InvalidTorrent(f"the torrent offered for artifact {digest} is not named by it")
        await self._reserve(digest, summary.size)
        try:
            path = await self.session.download(
                torrent,
                self.root,
                peers,
                progress,
                expected_sha256=digest,
                stall_timeout_s=stall_timeout_s,
                reserve_peers=reserve_peers,
            )
            await asyncio.to_thread(self.torrent_path(digest).write_bytes, torrent)
        finally:
            self._incoming.pop(digest, None)
        self._remember(digest, summary.size)
        await self._save_index()
        return path

    async def add(self, source: Path, digest: str, *, move: bool = False) -> Path:
        """Takes in an artifact fetched another way (gRPC): hashes it (a mismatch is an
        error and nothing is kept), stores it, makes its torrent and seeds it."""
        cached = self.path(digest)
        if cached is not None:
            return cached
        source = Path(source)
        size = (await asyncio.to_thread(source.stat)).st_size
        await self._reserve(digest, size)
        try:
            staged = self.root / f".{digest}.incoming"
            await asyncio.to_thread(_place, source, staged, move)
            meta = await asyncio.to_thread(make_torrent, staged) if size else None
            actual = meta.digest if meta else _EMPTY_SHA256
            if actual != digest:
                await asyncio.to_thread(staged.unlink, missing_ok=True)
                raise DigestMismatch(
                    f"{source.name} is not artifact {digest}: its SHA-256 is {actual}"
                )
            await asyncio.to_thread(os.replace, staged, self.root / digest)
            if meta is not None:
                await asyncio.to_thread(self.torrent_path(digest).write_bytes, meta.torrent)
        finally:
            self._incoming.pop(digest, None)
        self._remember(digest, size)
        await self._save_index()
        await self._seed(digest)
        return self.root / digest

    async def torrent_of(self, digest: str) -> bytes | None:
        """The cached artifact's torrent (to hand to peers), or None."""
        if digest not in self._entries:
            return None
        try:
            return await asyncio.to_thread(self.torrent_path(digest).read_bytes)
        except FileNotFoundError:
            return None

    # -- evicting --------------------------------------------------------------------------

    async def make_room(self, incoming_bytes: int) -> list[str]:
        """Evicts least recently used artifacts not in use until `incoming_bytes` more fit
        under the cap; returns the evicted digests."""
        async with self._lock:
            return await self._make_room(incoming_bytes)

    async def _make_room(self, incoming_bytes: int) -> list[str]:
        evicted: list[str] = []
        for digest in self.digests():
            if self.used_bytes + incoming_bytes <= self.max_bytes:
                break
            if digest in self._held:
                continue
            await self.evict(digest)
            evicted.append(digest)
        if evicted:
            log.info(
                "cache evicted count=%d used=%d cap=%d",
                len(evicted),
                self.used_bytes,
                self.max_bytes,
            )
        return evicted

    async def evict(self, digest: str) -> None:
        """Stops seeding the artifact and deletes it from the cache."""
        if self._entries.pop(digest, None) is None:
            return
        if self.session is not None:
            await self.session.remove(digest)
        for path in (self.root / digest, self.torrent_path(digest)):
            await asyncio.to_thread(path.unlink, missing_ok=True)
        await self._save_index()
        log.info("cache evicted digest=%s", digest)

    def set_max_bytes(self, max_bytes: int) -> None:
        """A new cap; shrinking evicts in the background."""
        self.max_bytes = int(max_bytes)
        task = asyncio.get_running_loop().create_task(self.make_room(0))
        self._trimming.add(task)  # keep a reference until it is done
        task.add_done_callback(self._trimming.discard)

    def follow(self, store: SettingsStore) -> Callable[[], None]:
        """Keeps the cap equal to the contributor's cache_max_mb, live."""
        loop = asyncio.get_running_loop()

        def apply(settings: ClientSettings) -> None:
            cap = settings.contributor.cache_max_mb * MB
            if cap != self.max_bytes:
                loop.call_soon_threadsafe(self.set_max_bytes, cap)

        return store.subscribe(apply)

    async def close(self) -> None:
        await self._save_index()

    # -- internals -------------------------------------------------------------------------

    async def _reserve(self, digest: str, size: int) -> None:
        async with self._lock:
            if size > self.max_bytes:
                raise CacheFull(
                    f"artifact {digest} ({size / MB:.1f} MB) is larger than the whole cache "
                    f"({self.max_bytes / MB:.1f} MB); raise the cache size"
                )
            await self._make_room(size)
            if self.used_bytes + size > self.max_bytes:
                raise CacheFull(
                    f"no room for artifact {digest} ({size / MB:.1f} MB): the cache is full of "
                    "artifacts in use"
                )
            self._incoming[digest] = size

    def _remember(self, digest: str, size: int) -> None:
        self._entries[digest] = CacheEntry(digest, size, time.time())

    async def _seed(self, digest: str) -> None:
        if self.session is None:
            return
        torrent = await self.torrent_of(digest)
        if torrent is None:
            return  # an empty artifact: nothing to share
        try:
            await self.session.seed(self.root / digest, torrent)
        except Exception as exc:
            log.warning("cannot seed cached digest=%s: %s", digest, exc)

    async def _save_index(self) -> None:
        entries = [asdict(e) for e in self._entries.values()]
        await asyncio.to_thread(_write_json, self.root / INDEX, {"entries": entries})


_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _place(source: Path, target: Path, move: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if move:
        shutil.move(source, target)
    else:
        shutil.copyfile(source, target)


def _write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
