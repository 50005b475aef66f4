"""Who asked for which artifact lately. Workers that lease tasks of one job at the same time
fetch the same input at the same time; none of them seeds it yet, so without this each would
only know the server and take the whole artifact from it. The server, like a tracker, hands
each new fetcher the nodes that started fetching just before it: they trade pieces from then
on (a connection carries pieces both ways). In memory: it only matters for a few minutes; at
most `max_artifacts` artifacts of `per_artifact` fetchers each (the least recently fetched
artifact leaves first), so no flood of requests grows it."""

from __future__ import annotations

import time
from collections import OrderedDict

from common.bounded import BoundedCache

RECENT_S = 600.0
PER_ARTIFACT = 50
MAX_ARTIFACTS = 10_000


class SwarmBook:
    def __init__(
        self,
        recent_s: float = RECENT_S,
        per_artifact: int = PER_ARTIFACT,
        max_artifacts: int = MAX_ARTIFACTS,
    ) -> None:
        self.recent_s = recent_s
        self.per_artifact = per_artifact
        # digest -> node id -> (endpoint, when), oldest first
        self._fetchers: BoundedCache[str, OrderedDict[str, tuple[str, float]]] = BoundedCache(
            max_artifacts, recent_s
        )

    def __len__(self) -> int:
        return len(self._fetchers)

    def note(self, digest: str, node_id: str, endpoint: str) -> None:
        """`node_id` (reachable at `endpoint`) started fetching `digest`."""
        if not node_id or not endpoint:
            return
        fetchers = self._fetchers.get(digest) or OrderedDict()
        fetchers.pop(node_id, None)
        fetchers[node_id] = (endpoint, time.monotonic())
        while len(fetchers) > self.per_artifact:
            fetchers.popitem(last=False)
        self._fetchers.put(digest, fetchers)  # fresh again: expires RECENT_S after this

    def recent(self, digest: str, exclude_node_id: str = "") -> list[tuple[str, str]]:
        """(node id, endpoint) of recent fetchers of `digest`, newest first."""
        fetchers = self._fetchers.get(digest)
        if not fetchers:
            return []
        cutoff = time.monotonic() - self.recent_s
        for node_id in [n for n, (_, at) in fetchers.items() if at < cutoff]:
            del fetchers[node_id]
        if not fetchers:
            self._fetchers.pop(digest)
            return []
        return [
            (node_id, endpoint)
            for node_id, (endpoint, _) in reversed(fetchers.items())
            if node_id != exclude_node_id
        ]
