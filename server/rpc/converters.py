"""Shared conversions between domain values and protobuf messages (the edges only).

Servicers of every area may add helpers here; keep each one small and free of logic.
"""

from __future__ import annotations

import base64
import binascii

from proto.hivemind.v1 import admin_pb2, auth_pb2, common_pb2
from server.accounts.sessions import SessionTokens
from server.accounts.users import UserRecord
from server.errors import InvalidArgument
from server.nodes.listing import NodeView
from server.runtimes.approved import RuntimeRecord

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def user_to_proto(user: UserRecord) -> common_pb2.User:
    return common_pb2.User(
        user_id=user.user_id,
        username=user.username,
        is_admin=user.is_admin,
        created_at=int(user.created_at),
    )


def session_to_proto(session: SessionTokens) -> auth_pb2.Session:
    return auth_pb2.Session(
        user=user_to_proto(session.user),
        access_token=session.access_token,
        access_expires_at=session.access_expires_at,
        refresh_token=session.refresh_token,
        refresh_expires_at=session.refresh_expires_at,
    )


def page_size(page: common_pb2.PageRequest, default: int = DEFAULT_PAGE_SIZE) -> int:
    """The requested page size: 0 means `default`; never more than MAX_PAGE_SIZE."""
    if page.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(page.page_size or default, MAX_PAGE_SIZE)


def encode_page_token(cursor: str) -> str:
    """Opaque to clients: they hand back what they got."""
    return base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=") if cursor else ""


def decode_page_token(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(
            "invalid page token (use the one the previous page returned)"
        ) from None


def node_to_proto(node: NodeView) -> admin_pb2.NodeInfo:
    return admin_pb2.NodeInfo(
        node_id=node.node_id,
        name=node.name,
        owner=node.owner,
        online=node.online,
        banned=node.banned,
        last_seen=int(node.last_seen),
        running=node.running,
        cores=node.cores,
        memory_mb=node.memory_mb,
        benchmark_score=node.benchmark_score,
        runtimes=node.runtimes,
        consecutive_valid=node.consecutive_valid,
        valid_results=node.valid_results,
        invalid_results=node.invalid_results,
        errors=node.errors,
        expired_leases=node.expired_leases,
        network=node.network,
        lease_quota=node.lease_quota,
        quarantined_until=int(node.quarantined_until),
        quarantine_reason=node.quarantine_reason,
    )


def runtime_to_proto(runtime: RuntimeRecord) -> admin_pb2.Runtime:
    return admin_pb2.Runtime(
        name=runtime.name,
        image=runtime.image,
        image_id=runtime.image_id,
        archive_digest=runtime.archive_digest,
        created_at=int(runtime.created_at),
    )
