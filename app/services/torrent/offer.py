"""A worker's result offered over BitTorrent instead of uploaded over gRPC.

The worker seeds the packed result, calls OfferResult, and once the server answers with its
BT endpoint dials it (the server never dials a worker: this works behind NAT); the server
pulls over that connection, verifies the digest and stores the result. None means "upload
over gRPC": a small result, BitTorrent off on the server, its BT port unreachable, or a
pull that failed. The log says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.services.client.session import ClientError
from app.services.torrent.errors import TorrentError
from app.services.torrent.metainfo import make_torrent
from proto.hivemind.v1 import artifact_pb2

if TYPE_CHECKING:
    from app.services.torrent.fetch import TorrentFetcher

log = logging.getLogger("hivemind.torrent")

# Below this a gRPC upload is one or two messages: a swarm would only add round trips.
RESULT_MIN_BYTES = 1024 * 1024
REACH_TIMEOUT_S = 3.0
DIAL_EVERY_S = 0.5


async def offer_result(
    fetcher: TorrentFetcher, artifacts: Any, path: Path, name: str = ""
) -> artifact_pb2.ArtifactInfo | None:
    """The stored result's info once the server pulled `path` over BitTorrent, or None
    (then upload it over gRPC)."""
    path = Path(path)
    size = (await asyncio.to_thread(path.stat)).st_size
    if size < fetcher.result_min_bytes:
        log.info("result of %d bytes is small: uploading it over gRPC", size)
        return None
    try:
        meta = await asyncio.to_thread(make_torrent, path)
        # The same bytes may be in the cache already (shared on): leave that seed alone.
        seeded_before = fetcher.session.is_seeding(meta.digest)
        await fetcher.session.seed(path, meta.torrent)
    except (TorrentError, OSError) as exc:
        log.warning("cannot seed the result (%s); uploading it over gRPC", exc)
        return None
    request = artifact_pb2.OfferResultRequest(
        digest=meta.digest, size=meta.size, torrent=meta.torrent, name=name
    )
    dialling: asyncio.Task[None] | None = None
    try:
        async with contextlib.aclosing(artifacts.OfferResult(request)) as steps:
            async for step in steps:
                if step.WhichOneof("step") == "connect_to":
                    server = fetcher.resolve(step.connect_to)
                    if not await can_reach(server):
                        log.warning(
                            "the server's BitTorrent port %s:%d is unreachable; "
                            "falling back to a gRPC upload of result digest=%s",
                            *server,
                            meta.digest,
                        )
                        return None
                    dialling = asyncio.create_task(_keep_dialling(fetcher, meta.digest, server))
                elif step.WhichOneof("step") == "stored":
                    log.info("result sent by bittorrent digest=%s size=%d", meta.digest, size)
                    return step.stored
    except ClientError as exc:
        log.warning(
            "result not taken by bittorrent (%s); falling back to a gRPC upload digest=%s",
            exc.message,
            meta.digest,
        )
        return None
    finally:
        if dialling is not None:
            dialling.cancel()
            await asyncio.gather(dialling, return_exceptions=True)
        # The server seeds it from now on; the worker's copy goes with the report.
        if not seeded_before:
            await fetcher.session.remove(meta.digest)
    log.warning("the server ended the offer without storing the result; using gRPC")
    return None


async def can_reach(peer: tuple[str, int], timeout_s: float = REACH_TIMEOUT_S) -> bool:
    """Whether a TCP connection to `peer` opens (a firewall or a closed port says no)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(*peer), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _keep_dialling(fetcher: TorrentFetcher, digest: str, server: tuple[str, int]) -> None:
    """Connects to the server for this torrent until the offer ends: one connect_peer can be
    lost (the server's session may take a moment to accept this torrent's handshakes), and
    connecting to a connected peer is a no-op."""
    while True:
        await fetcher.session.add_peers(digest, [server])
        await asyncio.sleep(DIAL_EVERY_S)
