"""Who a client should connect to for an artifact: the server's own seeder (and those of
the other replicas of this server, which hold and seed the same artifacts), then online
nodes that said (in heartbeats) they seed it, most recently confirmed first, then nodes
that are fetching it right now (server/torrent/swarm.py). The server has no notion of
network distance, so "nearest" is "freshest": a node that just reported is the likeliest
to be up. With Redis, what nodes seed and where they listen is read there
(server/nodes/presence.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.context import ServerContext
from server.errors import FailedPrecondition, NotFound
from server.jobs.access import Caller
from server.store.redis_link import RedisUnavailable
from server.store.schema import node_seeds, nodes
from server.torrent.seeder import SeedInfo

MAX_NODE_PEERS = 20


@dataclass(frozen=True)
class TorrentPeer:
    endpoint: str  # host:port; the host is empty for the server listening on every interface
    node_id: str = ""  # empty for the server


@dataclass(frozen=True)
class TorrentOffer:
    seed: SeedInfo
    peers: list[TorrentPeer]


async def torrent_offer(ctx: ServerContext, caller: Caller, digest: str) -> TorrentOffer:
    """The artifact's torrent and its peers, for a caller allowed to read it."""
    if ctx.seeder is None:
        raise FailedPrecondition("BitTorrent is off on this server; download over gRPC")
    if await ctx.artifacts.stat(caller, digest) is None:
        raise NotFound(f"no artifact {digest}")
    await ctx.artifacts.ensure_local(digest)  # uploaded through another replica: fetch it
    seed = await ctx.seeder.torrent_for(digest)
    seeding = await _seeding_nodes_now(ctx, digest, caller.node_id)
    fetching = [TorrentPeer(e, n) for n, e in ctx.seeder.swarm.recent(digest, caller.node_id)]
    if caller.node_id:
        endpoint = await _endpoint_now(ctx, caller.node_id)
        if _has_host(endpoint):
            ctx.seeder.swarm.note(digest, caller.node_id, endpoint)
    node_peers: list[TorrentPeer] = []
    for peer in [*seeding, *fetching]:
        if peer.node_id not in {p.node_id for p in node_peers}:
            node_peers.append(peer)
    servers = [TorrentPeer(ctx.seeder.endpoint)]
    if ctx.replicas is not None:
        servers += [TorrentPeer(e) for e in ctx.replicas.seeder_endpoints() if _has_host(e)]
    return TorrentOffer(seed, [*servers, *node_peers[:MAX_NODE_PEERS]])


async def _seeding_nodes_now(ctx: ServerContext, digest: str, exclude: str) -> list[TorrentPeer]:
    if ctx.presence is not None:
        try:
            found = await ctx.presence.seeders(digest, exclude, MAX_NODE_PEERS)
            return [TorrentPeer(e, n) for n, e in found if _has_host(e)]
        except RedisUnavailable:
            pass
    return await ctx.db.run(_seeding_nodes, digest, exclude, MAX_NODE_PEERS)


async def _endpoint_now(ctx: ServerContext, node_id: str) -> str:
    if ctx.presence is not None:
        try:
            return await ctx.presence.endpoint(node_id)
        except RedisUnavailable:
            pass
    return await ctx.db.run(_endpoint_of, node_id)


def _endpoint_of(conn: Connection, node_id: str) -> str:
    row = conn.execute(select(nodes.c.bt_endpoint).where(nodes.c.id == node_id)).first()
    return row.bt_endpoint if row is not None else ""


def _seeding_nodes(
    conn: Connection, digest: str, exclude_node_id: str, limit: int
) -> list[TorrentPeer]:
    rows = conn.execute(
        select(nodes.c.id, nodes.c.bt_endpoint)
        .join(node_seeds, node_seeds.c.node_id == nodes.c.id)
        .where(
            node_seeds.c.digest == digest,
            nodes.c.online.is_(True),
            nodes.c.banned.is_(False),
            nodes.c.bt_endpoint != "",
            nodes.c.id != exclude_node_id,
        )
        .order_by(node_seeds.c.updated_at.desc())
        .limit(limit)
    )
    # An endpoint without a host cannot be dialled by anyone else.
    return [TorrentPeer(row.bt_endpoint, row.id) for row in rows if _has_host(row.bt_endpoint)]


def _has_host(endpoint: str) -> bool:
    host, _, port = endpoint.rpartition(":")
    return bool(host.strip("[]")) and port.isdigit()


def observed_endpoint(reported: str, grpc_peer: str) -> str:
    """A node's BT endpoint with the host filled in from where its gRPC call came from
    (`context.peer()`, "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678") when it reported only a
    port (":6881"): behind NAT a node does not know the address others see."""
    host, _, port = (reported or "").rpartition(":")
    if not port.isdigit() or host.strip("[]"):
        return reported or ""
    kind, _, address = grpc_peer.partition(":")
    if kind not in ("ipv4", "ipv6"):
        return ""  # a unix socket or unknown transport: no address others could dial
    seen_host = address.rpartition(":")[0]
    return f"{seen_host}:{port}" if seen_host else ""
