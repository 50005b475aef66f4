"""Rotating a node's secret: a fresh 256-bit secret replaces the stored hash, so the old
secret is refused from the next call on (the servicer also drops the cached credential).

A node rotates its own secret; a user may rotate the secret of any node they own, which is
how a lost reply is recovered and how a machine that left its owner's hands is shut out.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import Connection, select, update

from server.context import ServerContext
from server.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from server.nodes.registry import NodeCredential, secret_hash
from server.store.schema import nodes

log = logging.getLogger("hivemind.nodes")

MAX_NODE_ID_CHARS = 64


def _replace_secret(
    conn: Connection, node_id: str, owner_id: str, new_hash: str, caller_node_id: str
) -> None:
    row = conn.execute(
        select(nodes.c.owner_id, nodes.c.banned).where(nodes.c.id == node_id)
    ).first()
    # Another user's node looks like a missing one: node ids of others do not leak.
    if row is None or row.owner_id != owner_id:
        raise NotFound(f"no node {node_id} of yours")
    if caller_node_id and caller_node_id != node_id:
        raise PermissionDenied("a node may rotate only its own secret")
    if row.banned:
        raise FailedPrecondition(f"node {node_id} is banned; its secret cannot be rotated")
    conn.execute(update(nodes).where(nodes.c.id == node_id).values(secret_hash=new_hash))


async def rotate_node_secret(
    ctx: ServerContext, owner_id: str, node_id: str, caller_node_id: str = ""
) -> NodeCredential:
    """A new secret for `node_id` (default: the calling node). `owner_id` is the caller's
    user (for a node, its owner); `caller_node_id` is set when a node credential calls."""
    node_id = (node_id or caller_node_id).strip()
    if not node_id:
        raise InvalidArgument("which node? give node_id (or call with the node's credential)")
    if len(node_id) > MAX_NODE_ID_CHARS:
        raise InvalidArgument(f"node_id is longer than {MAX_NODE_ID_CHARS} characters")
    secret = secrets.token_hex(32)
    await ctx.db.run(_replace_secret, node_id, owner_id, secret_hash(secret), caller_node_id)
    log.info("node secret rotated node=%s by=%s", node_id, caller_node_id or f"user {owner_id}")
    return NodeCredential(node_id, secret, ctx.settings.heartbeat_interval_s)
