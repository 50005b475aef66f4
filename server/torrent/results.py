"""Results offered over BitTorrent: a node seeds its packed result and offers it;
the server adds the torrent, tells the node its BT endpoint, and pulls the file over the
connection the node dials (the server never dials a node). The bytes are verified against
the digest and stored exactly as a gRPC upload would store them, so CompleteAttempts
cannot tell the two apart.

Any FailedPrecondition here means "upload it over gRPC instead": BitTorrent is off, the
server holds those bytes already (an upload proves the node has them), or nothing arrived.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from server.context import ServerContext
from server.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from server.jobs.access import Caller
from server.jobs.artifacts import ArtifactRecord, Upload, check_digest, check_upload_kind
from server.torrent.metainfo import parse_torrent

log = logging.getLogger("hivemind.seeder")

COPY_BYTES = 1024 * 1024
# How long a pull may see no new byte: the node checked it can reach the BT port before
# offering, so silence this long means the swarm is not going to deliver.
PULL_STALL_S = 30.0

# One step of an offer: ("connect_to", endpoint, None), then ("stored", "", record).
OfferStep = tuple[str, str, ArtifactRecord | None]


async def offered_result_steps(
    ctx: ServerContext,
    caller: Caller,
    digest: str,
    size: int,
    torrent: bytes,
    name: str = "",
    *,
    stall_timeout_s: float = PULL_STALL_S,
) -> AsyncIterator[OfferStep]:
    """Yields where the node should connect once the server is ready to pull, then the
    stored record. Nothing is kept when the call ends early or any check fails."""
    ready: asyncio.Queue[str] = asyncio.Queue()
    receiving = asyncio.create_task(
        receive_offered_result(
            ctx, caller, digest, size, torrent, name, ready, stall_timeout_s=stall_timeout_s
        )
    )
    waiting = asyncio.ensure_future(ready.get())
    try:
        await asyncio.wait({receiving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            yield ("connect_to", waiting.result(), None)
        yield ("stored", "", await receiving)
    finally:
        waiting.cancel()
        receiving.cancel()  # the node hung up: the pull stops and its file is removed
        await asyncio.gather(receiving, waiting, return_exceptions=True)


async def receive_offered_result(
    ctx: ServerContext,
    caller: Caller,
    digest: str,
    size: int,
    torrent: bytes,
    name: str,
    ready: asyncio.Queue[str],
    *,
    stall_timeout_s: float = PULL_STALL_S,
) -> ArtifactRecord:
    """Pulls the result the calling node seeds and stores it; puts the server's BT endpoint
    on `ready` once the node may connect."""
    seeder = ctx.seeder
    if seeder is None:
        raise FailedPrecondition("BitTorrent is off on this server; upload the result over gRPC")
    check_upload_kind(caller, "result")
    digest = check_digest(digest)
    info = parse_torrent(torrent)
    if info.name() != digest:
        raise InvalidArgument(f"the offered torrent is not named by its digest {digest}")
    if info.total_size() != size:
        raise InvalidArgument(
            f"the offered torrent describes {info.total_size()} bytes, not the {size} declared"
        )
    # Size limits and quota are checked before a byte moves, as for an upload.
    upload = await ctx.artifacts.begin_upload(caller, "result", size, digest, name)
    incoming = ctx.artifacts.tmp_dir / f"pull-{uuid.uuid4().hex}"
    try:
        try:
            pulled = await seeder.pull(
                torrent,
                [],
                incoming,
                expected_sha256=digest,
                stall_timeout_s=stall_timeout_s,
                on_added=lambda: ready.put(seeder.endpoint),
            )
        except AlreadyExists:
            raise FailedPrecondition(
                f"the server holds {digest} already; upload it over gRPC to claim it"
            ) from None
        await _copy_into(pulled, upload)
        record = await upload.finish()
    except BaseException:
        upload.discard()
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, incoming, True)
    log.info("result pulled by bittorrent digest=%s size=%d node=%s", digest, size, caller.node_id)
    await seeder.remember(digest, bytes(torrent))
    return record


async def _copy_into(path: Path, upload: Upload) -> None:
    """Feeds the pulled file through the upload, which hashes it again and places it: one
    path into the store for both transports."""
    with await asyncio.to_thread(path.open, "rb") as source:
        while data := await asyncio.to_thread(source.read, COPY_BYTES):
            await upload.write(data)
