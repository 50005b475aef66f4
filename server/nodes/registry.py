"""The node registry: registering a machine, updating its facts, heartbeats.

A node's secret is shown once, at registration; only its SHA-256 is stored. A heartbeat
says the node is alive, renews the leases of the attempts it is running and learns which
attempts to stop (its job was cancelled, or its lease was lost). Of the artifacts it says it
seeds, only those it may read and fetched or uploaded are kept: other workers will dial it
for them (server/torrent/peers.py). Without Redis every beat writes that to the database;
with Redis (server/nodes/presence.py) a beat writes there and the database only hears of
state changes, unless Redis does not answer (what it seeds is then checked when a peer list
is made).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from server.context import ServerContext
from server.errors import InvalidArgument, NotFound
from server.ids import new_id
from server.jobs.artifacts import check_digest
from server.jobs.models import ATTEMPT_LEASED, ATTEMPT_LIVE_STATES, TASK_LEASED, TASK_RUNNING
from server.nodes.batching import Batched
from server.nodes.presence import HotPresence
from server.store.db import Database
from server.store.redis_link import RedisUnavailable
from server.store.schema import artifact_owners, attempts, jobs, node_seeds, nodes, tasks

log = logging.getLogger("hivemind.nodes")

KNOWN_EXECUTORS = ("docker", "process")
MAX_NAME = 120
MAX_RUNTIMES = 64
MAX_SEEDS = 10_000  # digests a heartbeat may name
MAX_SEEDS_KEPT = 1000  # of those, the node is listed as a seeder of at most this many


@dataclass(frozen=True)
class Hardware:
    cores: int = 0
    memory_mb: int = 0
    disk_mb: int = 0
    gpus: int = 0
    os: str = ""
    arch: str = ""
    cpu_model: str = ""
    benchmark_score: float = 0.0
    hostname: str = ""


@dataclass(frozen=True)
class NodeCredential:
    node_id: str
    secret: str  # shown once; the node authenticates with "<node_id>.<secret>"
    heartbeat_interval_s: int


@dataclass(frozen=True)
class Beat:
    """What a node reports in a heartbeat."""

    usage: dict = field(default_factory=dict)
    running_attempt_ids: Sequence[str] = ()
    paused: bool = False
    pause_reason: str = ""
    seeding_digests: Sequence[str] = ()
    bt_endpoint: str = ""


@dataclass(frozen=True)
class BeatReply:
    cancel_attempt_ids: list[str]
    lease_deadline: float
    heartbeat_interval_s: int


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_facts(hardware: Hardware, runtimes: Sequence[str], executors: Sequence[str]) -> None:
    if min(hardware.cores, hardware.memory_mb, hardware.disk_mb, hardware.gpus) < 0:
        raise InvalidArgument("hardware numbers must not be negative")
    score = hardware.benchmark_score
    if not math.isfinite(score) or score < 0:  # NaN would reach the database as NULL
        raise InvalidArgument(f"benchmark score must be a finite number >= 0 (got {score})")
    if len(runtimes) > MAX_RUNTIMES or any(not r or len(r) > 64 for r in runtimes):
        raise InvalidArgument(f"runtimes must be at most {MAX_RUNTIMES} names of 1-64 characters")
    unknown = sorted(set(executors) - set(KNOWN_EXECUTORS))
    if unknown:
        raise InvalidArgument(
            f"unknown executor {unknown[0]!r} (known: {', '.join(KNOWN_EXECUTORS)})"
        )


def _facts(hardware: Hardware, runtimes: Sequence[str], executors: Sequence[str]) -> dict:
    return {
        "hardware_json": json.dumps(asdict(hardware), sort_keys=True),
        "benchmark_score": float(hardware.benchmark_score or 0.0),
        "runtimes_json": json.dumps(sorted(set(runtimes))),
        "executors_json": json.dumps(sorted(set(executors))),
    }


async def register_node(
    ctx: ServerContext,
    owner_id: str,
    name: str,
    hardware: Hardware,
    runtimes: Sequence[str] = (),
    executors: Sequence[str] = (),
    network: str = "",
) -> NodeCredential:
    """Registers a machine of `owner_id`; `network` is where the call came from
    (server/nodes/networks.py), recorded as the node's network."""
    name = (name or hardware.hostname or "node").strip()
    if len(name) > MAX_NAME:
        raise InvalidArgument(f"node name is longer than {MAX_NAME} characters")
    _check_facts(hardware, runtimes, executors)
    node_id = new_id("node")
    secret = secrets.token_hex(32)
    now = time.time()

    def create(conn: Connection) -> None:
        conn.execute(
            insert(nodes).values(
                id=node_id,
                owner_id=owner_id,
                name=name,
                secret_hash=secret_hash(secret),
                usage_json="{}",
                created_at=now,
                last_seen=now,
                online=True,
                paused=False,
                banned=False,
                ban_reason="",
                bt_endpoint="",
                network=network,
                **_facts(hardware, runtimes, executors),
            )
        )

    await ctx.db.run(create)
    if ctx.presence is not None:
        await ctx.presence.touch(node_id, now)
    log.info("node registered node=%s owner=%s name=%s", node_id, owner_id, name)
    return NodeCredential(node_id, secret, ctx.settings.heartbeat_interval_s)


async def update_node(
    ctx: ServerContext,
    node_id: str,
    hardware: Hardware,
    runtimes: Sequence[str] = (),
    executors: Sequence[str] = (),
) -> None:
    _check_facts(hardware, runtimes, executors)

    def change(conn: Connection) -> None:
        done = conn.execute(
            update(nodes)
            .where(nodes.c.id == node_id)
            .values(last_seen=time.time(), **_facts(hardware, runtimes, executors))
        ).rowcount
        if not done:
            raise NotFound(f"no node {node_id}")

    await ctx.db.run(change)
    ctx.events.idle.forget(node_id)  # new facts: what it may lease is looked at again


def _seeds(beat: Beat) -> list[str]:
    if len(beat.seeding_digests) > MAX_SEEDS:
        raise InvalidArgument(f"a heartbeat lists at most {MAX_SEEDS} seeded artifacts")
    return sorted({check_digest(digest) for digest in beat.seeding_digests})


def _held(conn: Connection, node_id: str, digests: list[str]) -> list[str]:
    """Of the digests a node says it seeds, those it may read and really fetched or uploaded
    (at most MAX_SEEDS_KEPT): other workers will dial it for them, so a node cannot name
    artifacts it never had, nor others' private ones."""
    held: list[str] = []
    for start in range(0, len(digests), 500):  # SQLite caps a statement's parameters
        held += conn.execute(
            select(artifact_owners.c.digest).where(
                artifact_owners.c.principal_id == node_id,
                artifact_owners.c.digest.in_(digests[start : start + 500]),
                artifact_owners.c.fetched_at.is_not(None),
            )
        ).scalars()
        if len(held) >= MAX_SEEDS_KEPT:
            break
    return sorted(held)[:MAX_SEEDS_KEPT]


def renewed_deadline(attempt: Row, lease_ttl_s: int, now: float) -> float:
    """A renewed lease lasts lease_ttl_s, but never past the task's own wall-clock deadline
    (leased_at + timeout) plus one lease of grace: a task paused by its contributor's policy
    keeps its lease while it may still finish in time, not for ever."""
    task_deadline = attempt.leased_at + attempt.timeout_s + lease_ttl_s
    return max(attempt.lease_deadline, min(now + lease_ttl_s, task_deadline))


def _renewals(
    conn: Connection, node_id: str, listed: list[str], lease_ttl_s: int, now: float
) -> tuple[dict[str, float], list[str], set[str]]:
    """The node's listed attempts it still holds: their renewed deadlines, the tasks of
    those that were only leased (they have started), and those tasks' jobs."""
    deadlines: dict[str, float] = {}
    leased_tasks: list[str] = []
    started_jobs: set[str] = set()
    if not listed:
        return deadlines, leased_tasks, started_jobs
    rows = conn.execute(
        select(
            attempts.c.id,
            attempts.c.task_id,
            attempts.c.job_id,
            attempts.c.node_id,
            attempts.c.state,
            attempts.c.cancel_requested,
            attempts.c.lease_deadline,
            attempts.c.leased_at,
            jobs.c.timeout_s,
        )
        .select_from(attempts.join(jobs, jobs.c.id == attempts.c.job_id))
        .where(attempts.c.id.in_(listed))
    ).all()
    for row in rows:
        if row.node_id == node_id and row.state in ATTEMPT_LIVE_STATES and not row.cancel_requested:
            deadlines[row.id] = renewed_deadline(row, lease_ttl_s, now)
            if row.state == ATTEMPT_LEASED:
                leased_tasks.append(row.task_id)
                started_jobs.add(row.job_id)
    return deadlines, leased_tasks, started_jobs


def _mark_started(
    conn: Connection, renewable: list[str], leased_tasks: list[str], now: float
) -> None:
    """A node lists what it runs: a leased attempt it lists has started."""
    if renewable:
        conn.execute(
            update(attempts)
            .where(attempts.c.id.in_(renewable), attempts.c.state == ATTEMPT_LEASED)
            .values(state="running", started_at=now)
        )
    if leased_tasks:
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(leased_tasks), tasks.c.state == TASK_LEASED)
            .values(state=TASK_RUNNING, updated_at=now)
        )


def _node_state(beat: Beat, now: float, network: str) -> dict:
    seen = {"network": network} if network else {}
    return {
        "last_seen": now,
        "online": True,
        "paused": beat.paused,
        "usage_json": json.dumps(beat.usage, sort_keys=True),
        "bt_endpoint": beat.bt_endpoint[:120],
        **seen,
    }


def record_heartbeat(
    conn: Connection,
    node_id: str,
    beat: Beat,
    seeds: list[str],
    lease_ttl_s: int,
    now: float,
    network: str = "",
) -> tuple[list[str], set[str]]:
    """Stores the node's state (and the network the beat came from, unless "") and renews
    its listed live leases; returns the attempts to stop and the jobs whose tasks started
    running. (Without Redis: every beat writes.)"""
    values = _node_state(beat, now, network)
    conn.execute(update(nodes).where(nodes.c.id == node_id).values(**values))
    conn.execute(delete(node_seeds).where(node_seeds.c.node_id == node_id))
    held = _held(conn, node_id, seeds)
    if held:
        conn.execute(
            insert(node_seeds),
            [{"node_id": node_id, "digest": d, "updated_at": now} for d in held],
        )
    listed = sorted(set(beat.running_attempt_ids))
    deadlines, leased_tasks, started_jobs = _renewals(conn, node_id, listed, lease_ttl_s, now)
    if deadlines:
        conn.execute(
            update(attempts)
            .where(attempts.c.id == bindparam("b_id"))
            .values(lease_deadline=bindparam("b_deadline")),
            [{"b_id": a, "b_deadline": d} for a, d in deadlines.items()],
        )
    _mark_started(conn, list(deadlines), leased_tasks, now)
    # Cancelling a job ends its attempts, so "cancel requested" and "lease lost" both show
    # here as a listed attempt that is no longer live for this node.
    return [a for a in listed if a not in deadlines], started_jobs


def record_beat_changes(
    conn: Connection,
    node_id: str,
    beat: Beat,
    lease_ttl_s: int,
    now: float,
    tell_node: bool,
    network: str = "",
) -> tuple[list[str], set[str], dict[str, float]]:
    """With Redis: writes only what changed state (the node came online or paused, attempts
    started); returns the attempts to stop, the jobs whose tasks started and the renewed
    deadlines (which go to Redis). The node's network is written with its state (leases and
    results write it too)."""
    if tell_node:
        values = _node_state(beat, now, network)
        conn.execute(update(nodes).where(nodes.c.id == node_id).values(**values))
    listed = sorted(set(beat.running_attempt_ids))
    deadlines, leased_tasks, started_jobs = _renewals(conn, node_id, listed, lease_ttl_s, now)
    _mark_started(conn, list(deadlines), leased_tasks, now)
    return [a for a in listed if a not in deadlines], started_jobs, deadlines


async def _hot_heartbeat(
    ctx: ServerContext,
    hot: HotPresence,
    node_id: str,
    beat: Beat,
    seeds: list[str],
    now: float,
    network: str,
) -> list[str] | None:
    """The beat through Redis; None when Redis did not take it (then the database does)."""
    ttl = ctx.settings.lease_ttl_s
    try:
        news = await hot.record_beat(
            node_id,
            usage=beat.usage,
            paused=beat.paused,
            bt_endpoint=beat.bt_endpoint,
            seeds=seeds,
            now=now,
        )
    except RedisUnavailable:
        return None
    cancel: list[str] = []
    if beat.running_attempt_ids or news.tell_database:
        cancel, started_jobs, deadlines = await ctx.db.run(
            record_beat_changes, node_id, beat, ttl, now, news.tell_database, network
        )
        for job_id in started_jobs:
            ctx.events.notify(job_id)
        try:
            await hot.renew(deadlines)
            if news.tell_database:
                await hot.database_knows(node_id, beat.paused)
        except RedisUnavailable:
            # The renewals are lost with Redis; the database keeps them instead.
            await ctx.db.run(_store_deadlines, deadlines)
    return cancel


def _store_deadlines(conn: Connection, deadlines: dict[str, float]) -> None:
    if deadlines:
        conn.execute(
            update(attempts)
            .where(attempts.c.id == bindparam("b_id"))
            .values(lease_deadline=bindparam("b_deadline")),
            [{"b_id": a, "b_deadline": d} for a, d in deadlines.items()],
        )


@dataclass(frozen=True)
class StoredBeat:
    """One heartbeat for the database (without Redis): see `record_heartbeats`."""

    node_id: str
    beat: Beat
    seeds: list[str]
    lease_ttl_s: int
    now: float
    network: str = ""


def record_heartbeats(
    conn: Connection, beats: Sequence[StoredBeat]
) -> list[tuple[list[str], set[str]]]:
    """`record_heartbeat` for each beat, in one transaction: a beat that lists no attempts
    and no seeds (an idle node's) only updates the node's row, with one statement for all
    of them."""
    results: list[tuple[list[str], set[str]]] = []
    idle: list[StoredBeat] = []
    for stored in beats:
        if stored.beat.running_attempt_ids or stored.seeds:
            results.append(
                record_heartbeat(
                    conn,
                    stored.node_id,
                    stored.beat,
                    stored.seeds,
                    stored.lease_ttl_s,
                    stored.now,
                    stored.network,
                )
            )
        else:
            idle.append(stored)
            results.append(([], set()))
    for with_network in (True, False):
        states = [
            (stored.node_id, _node_state(stored.beat, stored.now, stored.network))
            for stored in idle
            if bool(stored.network) == with_network
        ]
        if states:
            values = {column: bindparam(f"b_{column}") for column in states[0][1]}
            rows = [
                {"b_id": node_id, **{f"b_{k}": v for k, v in state.items()}}
                for node_id, state in states
            ]
            conn.execute(update(nodes).where(nodes.c.id == bindparam("b_id")).values(values), rows)
    idle_ids = sorted({stored.node_id for stored in idle})
    for start in range(0, len(idle_ids), 500):  # SQLite caps a statement's parameters
        conn.execute(
            delete(node_seeds).where(node_seeds.c.node_id.in_(idle_ids[start : start + 500]))
        )
    return results


def beat_batches(db: Database) -> Batched[StoredBeat, tuple[list[str], set[str]]]:
    """Where heartbeats without Redis queue for their transaction (server/nodes/batching.py)."""
    return Batched.transactions(db, record_heartbeats)


async def heartbeat(ctx: ServerContext, node_id: str, beat: Beat, network: str = "") -> BeatReply:
    seeds = _seeds(beat)
    ttl = ctx.settings.lease_ttl_s
    now = time.time()
    cancel = None
    if ctx.presence is not None:
        cancel = await _hot_heartbeat(ctx, ctx.presence, node_id, beat, seeds, now, network)
    if cancel is None:
        cancel, started_jobs = await ctx.beats(StoredBeat(node_id, beat, seeds, ttl, now, network))
        for job_id in started_jobs:
            ctx.events.notify(job_id)
    if cancel:
        log.info("heartbeat node=%s stop_attempts=%s", node_id, ",".join(cancel))
    return BeatReply(cancel, now + ttl, ctx.settings.heartbeat_interval_s)
