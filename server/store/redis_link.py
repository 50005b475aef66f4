"""The server's link to Redis (`redis_url`): one client, one pub/sub reader, and how a replica
learns that Redis forgot something.

Redis holds only what is hot and ephemeral (docs/ADMIN.md, "Scale-out"), so this module is
built around losing it. A replica may find Redis down (calls fail fast and the callers fall
back to the database), restarted empty, or back after a network cut during which messages
were missed. Each of these is a *gap*: listeners (`on_gap`) rebuild what they need (caches
are cleared, job watchers re-read, idle workers re-lease, replicas re-register) and
`floor` says from when on Redis knows things again, so nobody is declared silent for a
beat Redis never received.

Whether Redis restarted is read off an epoch key that the first replica to reach an empty
Redis creates (`<namespace>:epoch`, "<random id>:<unix time>"): every replica agrees on when
the current epoch began. Every key and channel starts with the namespace, so several networks
(or tests) may share one Redis.

Messages are small JSON objects; `publish` may be called from any thread and returns at once
(a background task sends them in pipelined batches). Each carries its sender (`o`), so a
replica ignores the echo of its own messages: it acted on them locally already.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("hivemind.redis")

CONTROL = "control"  # a channel nobody publishes to: the reader always has one subscription
READ_TIMEOUT_S = 0.2  # how often the reader applies new subscriptions
EPOCH_CHECK_S = 2.0
MAX_BATCH = 2000
RECONNECT_MAX_S = 5.0

Handler = Callable[[dict[str, Any]], None]


class RedisUnavailable(Exception):
    """Redis did not answer; the caller falls back to the database."""


@dataclass(frozen=True)
class Gap:
    """What Redis may have missed: everything since `since` (unix time). `restarted` when
    Redis lost its data (a new epoch), not only messages."""

    since: float
    restarted: bool


GapListener = Callable[[Gap], Awaitable[None] | None]


def _import_redis() -> Any:
    try:
        import redis.asyncio as aioredis
    except ImportError:
        raise ValueError(
            "redis_url is set but the redis client is not installed: pip install"
            " 'hivemind-platform[scale]'"
        ) from None
    return aioredis


MAX_CONNECTIONS = 64


class RedisLink:
    """See the module docstring. `await start()` on the event loop, `await close()` at the end."""

    def __init__(self, url: str, namespace: str, replica_id: str) -> None:
        aioredis = _import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = url
        self.namespace = namespace.strip(":") or "hivemind"
        self.replica_id = replica_id
        # Fail fast: a caller waiting on a dead Redis would hold a heartbeat or a lease.
        # A bounded pool whose callers wait for a free connection: redis-py's default pool
        # raises at its 101st concurrent call, which would read as Redis being down.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=2.0,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
            retry=Retry(NoBackoff(), 1),
            decode_responses=True,
        )
        self.client = aioredis.Redis.from_pool(pool)
        from redis.exceptions import RedisError

        self._errors: tuple[type[BaseException], ...] = (OSError, TimeoutError, RedisError)
        self.healthy = False
        self.epoch = ""
        self.epoch_started_at = 0.0
        self._down_since: float | None = None  # set while Redis is unreachable
        self._ever_connected = False
        self._last_gap_since = 0.0
        self._handlers: dict[str, Handler] = {}
        self._subscribed: set[str] = set()
        self._gap_listeners: list[GapListener] = []
        self._outbox: deque[tuple[str, str]] = deque()
        self._counters: defaultdict[str, int] = defaultdict(int)
        self._members: defaultdict[str, set[str]] = defaultdict(set)
        self._outbox_lock = threading.Lock()
        self._send_scheduled = False  # the sender was woken for what is in the outbox
        self._flush_wanted = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    @property
    def floor(self) -> float:
        """Before this (unix time) Redis may not know what happened: the start of the current
        epoch, or of the last (or the current) outage, whichever is later."""
        floor = max(self.epoch_started_at, self._last_gap_since)
        if self._down_since is not None:
            floor = max(floor, self._down_since)
        return floor

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the reader and the sender; a Redis that is down now is retried in the
        background (the server works without it meanwhile)."""
        self._loop = asyncio.get_running_loop()
        self._down_since = time.time()  # until the first connection: what Redis knows is unknown
        self._tasks = [
            asyncio.create_task(self._read(), name="redis-reader"),
            asyncio.create_task(self._send(), name="redis-sender"),
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3.0):
                while not self.healthy:
                    await asyncio.sleep(0.02)
        if not self.healthy:
            log.warning("redis not reachable yet url=%s; working without it until it is", self.url)

    async def close(self) -> None:
        self._closed = True
        self._flush_wanted.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.client.aclose()

    def on_gap(self, listener: GapListener) -> None:
        self._gap_listeners.append(listener)

    # -- calls -----------------------------------------------------------------------------

    def lost(self, error: BaseException) -> RedisUnavailable:
        """Records that a call failed (the reader reconnects) and returns the error to raise."""
        if self.healthy:
            log.warning("redis call failed: %s; falling back to the database", error)
        self.healthy = False
        if self._down_since is None:
            self._down_since = time.time()
        return RedisUnavailable(str(error))

    async def call(self, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        """`await link.call(lambda r: r.hget(...))`: RedisUnavailable when Redis is down or the
        call fails, at once when it is known to be down."""
        if not self.healthy:
            raise RedisUnavailable("redis is not connected")
        try:
            return await fn(self.client)
        except self._errors as error:
            raise self.lost(error) from None

    # -- publishing ------------------------------------------------------------------------

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Sends `message` on `<namespace>:<channel>` soon. Any thread; never blocks; dropped
        when Redis is down (receivers recover through their gap listeners)."""
        payload = json.dumps({"o": self.replica_id, **message}, separators=(",", ":"))
        with self._outbox_lock:
            if len(self._outbox) < 100_000:
                self._outbox.append((self.key(channel), payload))
            wake, self._send_scheduled = not self._send_scheduled, True
        if wake:
            self._wake_sender()

    def add(self, channel: str, count: int) -> None:
        """Adds `count` to a number sent on `<namespace>:<channel>` as {"n": total}: many adds
        between two sends become one message."""
        with self._outbox_lock:
            self._counters[self.key(channel)] += count
            wake, self._send_scheduled = not self._send_scheduled, True
        if wake:
            self._wake_sender()

    def add_member(self, channel: str, member: str) -> None:
        """Adds `member` to a set sent on `<namespace>:<channel>` as {"s": [members]}: the
        same member added many times between two sends is sent once."""
        with self._outbox_lock:
            members = self._members[self.key(channel)]
            if len(members) < MAX_BATCH:
                members.add(member)
            wake, self._send_scheduled = not self._send_scheduled, True
        if wake:
            self._wake_sender()

    def _wake_sender(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._flush_wanted.set()
        else:
            loop.call_soon_threadsafe(self._flush_wanted.set)

    async def _send(self) -> None:
        while not self._closed:
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            with self._outbox_lock:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), MAX_BATCH))]
                counters, self._counters = self._counters, defaultdict(int)
                members, self._members = self._members, defaultdict(set)
                self._send_scheduled = bool(self._outbox)
                if self._outbox:
                    self._flush_wanted.set()
            batch += [
                (channel, json.dumps({"o": self.replica_id, "n": n}))
                for channel, n in counters.items()
            ]
            batch += [
                (channel, json.dumps({"o": self.replica_id, "s": sorted(names)}))
                for channel, names in members.items()
            ]
            if not batch or not self.healthy:
                continue
            try:
                pipe = self.client.pipeline(transaction=False)
                for channel, payload in batch:
                    pipe.publish(channel, payload)
                await pipe.execute()
            except self._errors as error:
                self.lost(error)

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe(self, channel: str, handler: Handler) -> None:
        """Calls `handler(message)` on the event loop for each message other replicas send on
        `<namespace>:<channel>`, from within READ_TIMEOUT_S on."""
        self._handlers[self.key(channel)] = handler

    def unsubscribe(self, channel: str) -> None:
        self._handlers.pop(self.key(channel), None)

    async def _read(self) -> None:
        backoff = 0.1
        while not self._closed:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                restarted = await self._check_epoch()
                self._subscribed = set()
                await self._apply_subscriptions(pubsub)
                await self._connected()
                if restarted:
                    await self._gap(Gap(self.epoch_started_at, True))
                backoff = 0.1
                next_epoch_check = time.monotonic() + EPOCH_CHECK_S
                while not self._closed:
                    message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
                    if message is not None:
                        self._dispatch(message)
                    await self._apply_subscriptions(pubsub)
                    if time.monotonic() >= next_epoch_check or not self.healthy:
                        # A call failed meanwhile (a timeout under load, say): once Redis
                        # answers again, it is a gap like any other.
                        next_epoch_check = time.monotonic() + EPOCH_CHECK_S
                        restarted = await self._check_epoch()
                        if not self.healthy:
                            await self._connected()
                        if restarted:
                            await self._gap(Gap(self.epoch_started_at, True))
            except asyncio.CancelledError:
                raise
            except self._errors as error:
                self.lost(error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_S)
            except Exception:
                log.exception("redis reader failed; reconnecting")
                self.lost(RuntimeError("reader failed"))
                await asyncio.sleep(backoff)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _apply_subscriptions(self, pubsub: Any) -> None:
        wanted = {self.key(CONTROL), *self._handlers}
        added, removed = wanted - self._subscribed, self._subscribed - wanted
        if added:
            await pubsub.subscribe(*sorted(added))
        if removed:
            await pubsub.unsubscribe(*sorted(removed))
        self._subscribed = wanted

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        handler = self._handlers.get(message.get("channel", ""))
        if handler is None:
            return
        try:
            data = json.loads(message["data"])
        except (TypeError, ValueError):
            return
        if not isinstance(data, dict) or data.get("o") == self.replica_id:
            return  # our own message: acted on when it was sent
        try:
            handler(data)
        except Exception:
            log.exception("redis message handler failed channel=%s", message.get("channel"))

    async def _check_epoch(self) -> bool:
        """Reads (or, in an empty Redis, creates) the epoch; True when it changed since the
        last look, i.e. Redis restarted (or was flushed) meanwhile."""
        key = self.key("epoch")
        candidate = f"{secrets.token_hex(8)}:{time.time():.3f}"
        await self.client.set(key, candidate, nx=True)
        value = await self.client.get(key) or candidate
        if value == self.epoch:
            return False
        known, self.epoch = self.epoch, value
        try:
            self.epoch_started_at = float(value.rpartition(":")[2])
        except ValueError:
            self.epoch_started_at = time.time()
        if known:
            log.warning("redis restarted or was emptied; rebuilding epoch=%s", value)
        return bool(known)

    async def _connected(self) -> None:
        self.healthy = True
        since, self._down_since = self._down_since, None
        first, self._ever_connected = not self._ever_connected, True
        log.info("redis connected url=%s epoch=%s", self.url, self.epoch)
        if since is not None and not first:
            # Messages sent meanwhile were lost, and beats went to the database instead.
            await self._gap(Gap(since, restarted=False))

    async def _gap(self, gap: Gap) -> None:
        self._last_gap_since = max(self._last_gap_since, gap.since)
        for listener in list(self._gap_listeners):
            try:
                result = listener(gap)
                if result is not None:
                    await result
            except Exception:
                log.exception("redis gap listener failed")
