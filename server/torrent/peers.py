"""Who a client should connect to for an artifact: the server's own seeder, then online
nodes that said (in heartbeats) they seed it, most recently confirmed first, then nodes
that are fetching it right now (server/torrent/swarm.py). The server has no notion of
network distance, so "nearest" is "freshest": a node that just reported is the likeliest
to be up.

A peer list must not be a weapon (clients dial whatever it names) nor a hiding place for a
few sybils, so:
- a node is listed only for artifacts it may read and really fetched or uploaded
  (server/nodes/registry.py keeps only those of the digests a heartbeat names);
- at the address the server sees its calls come from, with the port it reports: whatever
  host a node names is ignored (`observed_endpoint`);
- at most MAX_NODE_PEERS nodes, and at most MAX_PEERS_PER_OWNER of one owner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.context import ServerContext
from server.errors import FailedPrecondition, NotFound
from server.jobs.access import Caller, mark_fetched
from server.store.schema import node_seeds, nodes
from server.torrent.seeder import SeedInfo

MAX_NODE_PEERS = 20
MAX_PEERS_PER_OWNER = 2


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
    seed = await ctx.seeder.torrent_for(digest)
    seeding = await ctx.db.run(_seeding_nodes, digest, caller.node_id, MAX_NODE_PEERS)
    fetching = [TorrentPeer(e, n) for n, e in ctx.seeder.swarm.recent(digest, caller.node_id)]
    if caller.node_id:
        endpoint = await ctx.db.run(_start_fetch, caller.node_id, digest, time.time())
        if _has_host(endpoint):
            ctx.seeder.swarm.note(digest, caller.node_id, endpoint)
    node_peers: list[TorrentPeer] = []
    for peer in [*seeding, *fetching]:
        if peer.node_id not in {p.node_id for p in node_peers}:
            node_peers.append(peer)
    return TorrentOffer(seed, [TorrentPeer(ctx.seeder.endpoint), *node_peers[:MAX_NODE_PEERS]])


def _start_fetch(conn: Connection, node_id: str, digest: str, now: float) -> str:
    """Notes that the node fetches `digest` (it may seed it from now on); its endpoint."""
    mark_fetched(conn, node_id, digest, now)
    row = conn.execute(select(nodes.c.bt_endpoint).where(nodes.c.id == node_id)).first()
    return row.bt_endpoint if row is not None else ""


def _seeding_nodes(
    conn: Connection, digest: str, exclude_node_id: str, limit: int
) -> list[TorrentPeer]:
    rows = conn.execute(
        select(nodes.c.id, nodes.c.owner_id, nodes.c.bt_endpoint)
        .join(node_seeds, node_seeds.c.node_id == nodes.c.id)
        .where(
            node_seeds.c.digest == digest,
            nodes.c.online.is_(True),
            nodes.c.banned.is_(False),
            nodes.c.bt_endpoint != "",
            nodes.c.id != exclude_node_id,
        )
        .order_by(node_seeds.c.updated_at.desc())
        .limit(limit * MAX_PEERS_PER_OWNER)
    )
    peers: list[TorrentPeer] = []
    per_owner: dict[str, int] = {}
    for row in rows:
        # An endpoint without a host cannot be dialled by anyone else.
        if not _has_host(row.bt_endpoint) or per_owner.get(row.owner_id, 0) >= MAX_PEERS_PER_OWNER:
            continue
        per_owner[row.owner_id] = per_owner.get(row.owner_id, 0) + 1
        peers.append(TorrentPeer(row.bt_endpoint, row.id))
        if len(peers) >= limit:
            break
    return peers


def _has_host(endpoint: str) -> bool:
    host, _, port = endpoint.rpartition(":")
    return bool(host.strip("[]")) and port.isdigit()


def observed_endpoint(reported: str, grpc_peer: str) -> str:
    """A node's BT endpoint: the host its gRPC call came from (`context.peer()`,
    "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678") with the port it reported (":6881" or
    "host:6881"). A host the node names is ignored: others would dial it on the node's word.
    "" when there is no valid port or the call came over no IP transport."""
    port = (reported or "").rpartition(":")[2]
    if not port.isdigit() or not 0 < int(port) < 65536:
        return ""
    kind, _, address = grpc_peer.partition(":")
    if kind not in ("ipv4", "ipv6"):
        return ""  # a unix socket or unknown transport: no address others could dial
    seen_host = address.rpartition(":")[0]
    return f"{seen_host}:{int(port)}" if seen_host else ""
