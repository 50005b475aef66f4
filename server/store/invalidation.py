"""Telling every cache that something it holds changed: a node's credential (rotated, banned),
a user's credentials or role (revoked, banned, promoted).

Caches register what to drop per topic (`listen`); whoever commits such a change calls
`announce(topic, key)` once, after the commit. `Invalidations` is one server on its own: the
listeners run at once. `RedisInvalidations` runs them at once too and tells every other
replica over Redis pub/sub, whose listeners run as soon as the message arrives (well within a
second). A replica that may have missed messages (Redis down or restarted) clears its caches
whole: a cache only ever saves a database read. An admin command that changes the database
directly announces through `announce_from_outside`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from server.store.redis_link import Gap, RedisLink

log = logging.getLogger("hivemind.invalidation")

NODE = "node"  # key: node id; its credential or ban changed
USER = "user"  # key: user id; their credentials, role or ban changed (and their nodes')
CHANNEL = "invalidate"


class Invalidations:
    """Caches of this process only (one server without Redis)."""

    def __init__(self) -> None:
        self._forget: dict[str, list[Callable[[str], None]]] = {}
        self._clear: list[Callable[[], None]] = []

    def listen(self, topic: str, forget: Callable[[str], None], clear: Callable[[], None]) -> None:
        """`forget(key)` runs on each announcement of `topic`; `clear()` when the cache must
        assume it missed some."""
        self._forget.setdefault(topic, []).append(forget)
        self._clear.append(clear)

    def announce(self, topic: str, key: str) -> None:
        """After the commit of a change: every cache, here and on other replicas, drops `key`."""
        self._run(topic, key)

    def _run(self, topic: str, key: str) -> None:
        for forget in self._forget.get(topic, ()):
            forget(key)

    def clear_all(self) -> None:
        for clear in self._clear:
            clear()


class RedisInvalidations(Invalidations):
    """Also tells the other replicas, over `<namespace>:invalidate`."""

    def __init__(self, link: RedisLink) -> None:
        super().__init__()
        self.link = link
        link.subscribe(CHANNEL, self._received)
        link.on_gap(self._gap)

    def announce(self, topic: str, key: str) -> None:
        self._run(topic, key)
        self.link.publish(CHANNEL, {"t": topic, "k": key})

    def _received(self, message: dict[str, Any]) -> None:
        topic, key = message.get("t"), message.get("k")
        if isinstance(topic, str) and isinstance(key, str):
            self._run(topic, key)

    def _gap(self, gap: Gap) -> None:
        log.info("clearing credential caches: redis may have missed invalidations")
        self.clear_all()


def announce_from_outside(redis_url: str, namespace: str, topic: str, key: str) -> bool:
    """For a process that is not a server (an admin command changing the database directly):
    tells every running replica, when they share a Redis, to drop `key`. Blocking; False
    when there is no Redis to tell (replicas then see it when their caches expire)."""
    if not redis_url:
        return False
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=3, socket_connect_timeout=3)
        try:
            channel = f"{namespace.strip(':') or 'hivemind'}:{CHANNEL}"
            client.publish(channel, json.dumps({"o": "admin-cli", "t": topic, "k": key}))
        finally:
            client.close()
    except Exception as error:  # the change is made; only the news is late
        log.warning("could not tell the replicas through redis: %s", error)
        return False
    return True
