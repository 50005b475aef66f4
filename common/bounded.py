"""A dictionary that never grows past its size: the least recently used entry leaves first,
and an entry may also expire after a time to live.

Every in-memory cache of a process that strangers can reach (the server, a worker's swarm)
is one of these, so no sequence of requests makes it hold more than `max_entries` values.
Not thread-safe: use it from one thread or event loop, or under the caller's lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """At most `max_entries` values, least recently used out first; with `ttl_s`, a value
    older than that is gone (read as missing, dropped when met)."""

    def __init__(
        self,
        max_entries: int,
        ttl_s: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"a cache holds at least one entry (got {max_entries})")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._entries))

    def get(self, key: K, default: V | None = None) -> V | None:
        """The value (now the most recently used), or `default` when missing or expired."""
        found = self._entries.get(key)
        if found is None:
            return default
        value, stored_at = found
        if self.ttl_s is not None and self._clock() - stored_at > self.ttl_s:
            del self._entries[key]
            return default
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> list[tuple[K, V]]:
        """Stores `value`; returns what left to make room (oldest first), so a caller can
        release what those entries held."""
        self._entries.pop(key, None)
        self._entries[key] = (value, self._clock())
        evicted: list[tuple[K, V]] = []
        while len(self._entries) > self.max_entries:
            old_key, (old_value, _) = self._entries.popitem(last=False)
            evicted.append((old_key, old_value))
        return evicted

    def setdefault(self, key: K, make: Callable[[], V]) -> V:
        """The value under `key`, made with `make()` and stored when missing."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def pop(self, key: K, default: V | None = None) -> V | None:
        found = self._entries.pop(key, None)
        return default if found is None else found[0]

    def values(self) -> list[V]:
        return [value for value, _ in self._entries.values()]

    def items(self) -> list[tuple[K, V]]:
        return [(key, value) for key, (value, _) in self._entries.items()]

    def clear(self) -> None:
        self._entries.clear()
