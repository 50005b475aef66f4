"""Node presence in Redis: who beat when, with what usage and BitTorrent endpoint, which
artifacts each seeds, and the lease deadlines heartbeats renewed.

Without Redis (one server) all of this is in the database, written by every heartbeat
(registry.record_heartbeat). With Redis a heartbeat writes here and the database only learns
*state changes*: a node coming online or pausing, an attempt starting. So the database no
longer has every beat, and the sweep reads both (`sweep_view`, then
validation/expiry.py): a node is silent only when neither saw it lately, a lease lapses only
when neither renewed it.

Redis may lose all of this (a restart) or miss some (an outage, when heartbeats fall back to
the database). What it cannot know counts as a beat at `link.floor`, the moment its knowledge
begins: no node is marked offline, and no lease lapses, until a full `node_offline_after_s`
(or lease lifetime) after Redis came back, by which time every live node has beaten again.
The database's own `online` flag stays the truth the rest of the server reads (the
scheduler, trust, statistics); a mirror here (`db` field) says whether the database already
has this node online with this pause state, so a beat only writes when that changed.

Keys (under the namespace): `presence` (zset node -> last beat), `node:<id>` (hash: beat,
usage, paused, bt, seeds, db), `node-seeds:<id>` (set of digests), `seeders:<digest>` (zset
node -> when it first said so), `leases` (zset attempt -> renewed deadline).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from server.config import ServerSettings
from server.jobs.models import ATTEMPT_LIVE_STATES
from server.nodes.batching import Batched
from server.store.db import Database
from server.store.redis_link import Gap, RedisLink, RedisUnavailable
from server.store.schema import attempts, nodes

log = logging.getLogger("hivemind.presence")

MAX_LAPSING = 5000  # lease renewals looked up per sweep
FULL_CHECK_EVERY_S = 600.0  # nodes online in the database but unknown to Redis, looked for
SEEDER_CANDIDATES = 200


@dataclass(frozen=True)
class PresenceView:
    """What Redis knew just before a sweep. `silent` and `renewals` are None when Redis is
    down: then the database's last_seen and lease deadlines (which heartbeats write while
    Redis is away) decide, and `floor` still covers what only Redis had."""

    floor: float  # before this, Redis may not know: counts as a beat / a renewal
    lease_ttl_s: float
    silent: frozenset[str] | None = None  # last beat in Redis before the cutoff
    beats: Mapping[str, float] = field(default_factory=dict)  # checked in full; 0 = none
    renewals: Mapping[str, float] | None = None  # lapsing attempt -> renewed deadline (0)

    def lease_deadline(self, attempt_id: str, stored: float) -> float | None:
        """The attempt's deadline counting renewals in Redis; None when Redis was not asked
        about it (it began to lapse after the look: the next sweep decides)."""
        grace = self.floor + self.lease_ttl_s
        if self.renewals is None:
            return max(stored, grace)
        if attempt_id not in self.renewals:
            return None
        return max(stored, self.renewals[attempt_id], grace)


@dataclass(frozen=True)
class _BeatWrite:
    node_id: str
    fields: dict[str, Any]  # the node's hash: beat, usage, paused, bt
    now: float


@dataclass(frozen=True)
class BeatNews:
    """What a beat recorded in Redis means for the database."""

    tell_database: bool  # the node came online or changed its pause: a state change


def _seeds_signature(seeds: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(seeds).encode()).hexdigest()[:16] if seeds else ""


def _mirror(paused: bool) -> str:
    return f"online:{int(bool(paused))}"


def lapsing_attempt_ids(conn: Connection, now: float) -> list[str]:
    return list(
        conn.execute(
            select(attempts.c.id)
            .where(attempts.c.state.in_(ATTEMPT_LIVE_STATES), attempts.c.lease_deadline < now)
            .limit(MAX_LAPSING)
        ).scalars()
    )


def online_nodes_seen_before(conn: Connection, cutoff: float) -> list[str]:
    return list(
        conn.execute(
            select(nodes.c.id).where(nodes.c.online.is_(True), nodes.c.last_seen < cutoff)
        ).scalars()
    )


def usable_nodes(conn: Connection, node_ids: Sequence[str]) -> set[str]:
    """Those of `node_ids` online and not banned."""
    if not node_ids:
        return set()
    return set(
        conn.execute(
            select(nodes.c.id).where(
                nodes.c.id.in_(list(node_ids)),
                nodes.c.online.is_(True),
                nodes.c.banned.is_(False),
            )
        ).scalars()
    )


class HotPresence:
    """Presence in Redis; see the module docstring. Every method raises RedisUnavailable when
    Redis does not answer (callers fall back to the database) except where it says not."""

    def __init__(self, link: RedisLink, db: Database, settings: ServerSettings) -> None:
        self.link = link
        self.db = db
        self.settings = settings
        self._unsent_forgets: set[str] = set()
        self._full_check_done_at = 0.0
        self._full_check_floor = -1.0
        self._cleaned_at = 0.0
        # Thousands of nodes beat: the beats that arrive together share one round trip.
        self._beats: Batched[_BeatWrite, list[Any]] = Batched(self._write_beats)
        link.on_gap(self._gap)

    def _node(self, node_id: str) -> str:
        return self.link.key("node", node_id)

    # -- heartbeats ------------------------------------------------------------------------

    async def record_beat(
        self,
        node_id: str,
        *,
        usage: Mapping[str, Any],
        paused: bool,
        bt_endpoint: str,
        seeds: Sequence[str],
        now: float,
    ) -> BeatNews:
        """Stores the beat (with the beats that arrive meanwhile, in one pipeline); says
        whether the database must hear of it."""
        signature = _seeds_signature(seeds)
        fields = {
            "beat": repr(now),
            "usage": json.dumps(dict(usage), sort_keys=True),
            "paused": int(bool(paused)),
            "bt": bt_endpoint[:120],
        }
        known_db, known_seeds = await self._beats(_BeatWrite(node_id, fields, now))
        if (known_seeds or "") != signature:
            await self._replace_seeds(node_id, seeds, signature, now)
        return BeatNews(tell_database=known_db != _mirror(paused))

    async def _write_beats(self, beats: list[_BeatWrite]) -> list[list[Any]]:
        """One pipeline for many beats: each node's mirror and seeds signature before it."""

        async def write(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for beat in beats:
                key = self._node(beat.node_id)
                pipe.hmget(key, "db", "seeds")
                pipe.hset(key, mapping=beat.fields)
            pipe.zadd(self.link.key("presence"), {beat.node_id: beat.now for beat in beats})
            return await pipe.execute()

        found = await self.link.call(write)
        return [found[2 * index] for index in range(len(beats))]

    async def _replace_seeds(
        self, node_id: str, seeds: Sequence[str], signature: str, now: float
    ) -> None:
        mine = self.link.key("node-seeds", node_id)
        old = set(await self.link.call(lambda r: r.smembers(mine)))
        new = set(seeds)

        async def write(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            for digest in new - old:
                pipe.zadd(self.link.key("seeders", digest), {node_id: now})
            for digest in old - new:
                pipe.zrem(self.link.key("seeders", digest), node_id)
            pipe.delete(mine)
            if new:
                pipe.sadd(mine, *sorted(new))
            pipe.hset(self._node(node_id), "seeds", signature)
            await pipe.execute()

        await self.link.call(write)

    async def database_knows(self, node_id: str, paused: bool) -> None:
        """After the database recorded the node online with this pause state."""
        await self.link.call(lambda r: r.hset(self._node(node_id), "db", _mirror(paused)))

    async def renew(self, deadlines: Mapping[str, float]) -> None:
        if deadlines:
            await self.link.call(lambda r: r.zadd(self.link.key("leases"), dict(deadlines)))

    async def touch(self, node_id: str, now: float) -> None:
        """A sign of life other than a beat (registration, a lease call). Never raises."""
        with contextlib.suppress(RedisUnavailable):
            await self.link.call(lambda r: r.zadd(self.link.key("presence"), {node_id: now}))

    async def forget_nodes(self, node_ids: Sequence[str]) -> None:
        """The database marked these nodes offline (or refused one as offline): their next
        beat must tell it they are back. Never raises; retried once Redis is back."""
        wanted = set(node_ids) | self._unsent_forgets
        if not wanted:
            return

        async def write(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.zrem(self.link.key("presence"), *sorted(wanted))
            for node_id in sorted(wanted):
                pipe.hdel(self._node(node_id), "db")
            await pipe.execute()

        try:
            await self.link.call(write)
            self._unsent_forgets.clear()
        except RedisUnavailable:
            self._unsent_forgets = wanted

    async def _gap(self, gap: Gap) -> None:
        if self._unsent_forgets:
            await self.forget_nodes([])

    # -- what the sweep needs --------------------------------------------------------------

    async def sweep_view(self, now: float) -> PresenceView:
        """What Redis knows about silent nodes and lapsing leases. Never raises: with Redis
        down the view says so."""
        floor = self.link.floor
        ttl = float(self.settings.lease_ttl_s)
        down = PresenceView(floor=floor, lease_ttl_s=ttl)
        if not self.link.healthy:
            return down
        cutoff = now - float(self.settings.node_offline_after_s)
        try:
            lapsing = await self.db.run(lapsing_attempt_ids, now)
            presence, leases = self.link.key("presence"), self.link.key("leases")

            async def read(r: Any) -> list[Any]:
                pipe = r.pipeline(transaction=False)
                pipe.zrangebyscore(presence, "-inf", f"({cutoff}")
                if lapsing:
                    pipe.zmscore(leases, lapsing)
                return await pipe.execute()

            found = await self.link.call(read)
            silent = frozenset(found[0])
            scores = found[1] if lapsing else []
            renewals = dict(zip(lapsing, [s or 0.0 for s in scores], strict=True))
            beats = await self._full_check(now, floor, cutoff)
            if now - self._cleaned_at >= 60:
                # Renewals of attempts long over (a deadline never passes the task's own).
                self._cleaned_at = now
                await self.link.call(lambda r: r.zremrangebyscore(leases, "-inf", now - 3600))
        except RedisUnavailable:
            return PresenceView(floor=self.link.floor, lease_ttl_s=ttl)
        return PresenceView(floor, ttl, silent, beats, renewals)

    async def _full_check(self, now: float, floor: float, cutoff: float) -> dict[str, float]:
        """Nodes the database has online but Redis never heard from (it lost them): looked
        for once the grace after a gap ended, and every FULL_CHECK_EVERY_S."""
        due = (floor < cutoff and self._full_check_floor != floor) or (
            now - self._full_check_done_at >= FULL_CHECK_EVERY_S
        )
        if not due:
            return {}
        self._full_check_floor, self._full_check_done_at = floor, now
        stale = await self.db.run(online_nodes_seen_before, cutoff)
        beats: dict[str, float] = {}
        presence = self.link.key("presence")
        for start in range(0, len(stale), 1000):
            chunk = stale[start : start + 1000]
            scores = await self.link.call(lambda r, c=chunk: r.zmscore(presence, c))
            beats.update(zip(chunk, [s or 0.0 for s in scores], strict=True))
        return beats

    # -- what BitTorrent peers need --------------------------------------------------------

    async def endpoint(self, node_id: str) -> str:
        return await self.link.call(lambda r: r.hget(self._node(node_id), "bt")) or ""

    async def seeders(self, digest: str, exclude_node_id: str, limit: int) -> list[tuple[str, str]]:
        """(node id, BT endpoint) of nodes that said they seed `digest` and beat lately, most
        recently heard first; banned and offline ones left out."""
        seeders = self.link.key("seeders", digest)
        ids = [
            n
            for n in await self.link.call(lambda r: r.zrevrange(seeders, 0, SEEDER_CANDIDATES))
            if n != exclude_node_id
        ]
        if not ids:
            return []

        async def read(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for node_id in ids:
                pipe.hmget(self._node(node_id), "beat", "bt")
            return await pipe.execute()

        fresh_after = time.time() - float(self.settings.node_offline_after_s)
        heard = []
        for node_id, (beat, endpoint) in zip(ids, await self.link.call(read), strict=True):
            if beat and endpoint and float(beat) >= fresh_after:
                heard.append((float(beat), node_id, endpoint))
        heard.sort(reverse=True)
        usable = await self.db.run(usable_nodes, [node_id for _, node_id, _ in heard])
        return [(node_id, endpoint) for _, node_id, endpoint in heard if node_id in usable][:limit]

    # -- what admins see -------------------------------------------------------------------

    async def last_beats(self, node_ids: Sequence[str]) -> dict[str, float]:
        """Last beat per node as Redis has it ({} when Redis is down)."""
        if not node_ids:
            return {}
        presence = self.link.key("presence")
        try:
            scores = await self.link.call(lambda r: r.zmscore(presence, list(node_ids)))
        except RedisUnavailable:
            return {}
        return {n: float(s) for n, s in zip(node_ids, scores, strict=True) if s}
