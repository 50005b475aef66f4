"""Artifact transfer over the gRPC chunked stream: upload a file, download one by digest.

Both run on the caller's loop and do every bit of file I/O and hashing in a thread.
`progress(done_bytes, total_bytes)` is called as bytes move (never from another thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc

from app.services.client.session import ClientError
from common.digests import file_sha256, hash_file
from proto.hivemind.v1 import artifact_pb2, common_pb2

CHUNK_BYTES = 1024 * 1024
Progress = Callable[[int, int], None]


class TransferError(Exception):
    """A transfer could not complete (digest mismatch, unreadable file)."""


async def stat_artifact(artifacts: Any, digest: str) -> artifact_pb2.ArtifactInfo | None:
    """The server's info on `digest`, or None when it does not hold it (or we may not see it)."""
    try:
        info = await artifacts.Stat(artifact_pb2.StatRequest(digest=digest))
    except ClientError as exc:
        if exc.code == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return info if info.exists else None


async def upload_file(
    artifacts: Any,
    path: Path | str,
    kind: common_pb2.ArtifactKind.ValueType,
    name: str = "",
    progress: Progress | None = None,
) -> artifact_pb2.ArtifactInfo:
    """Uploads `path` as an artifact of `kind` (skipped when the server already has it)."""
    path = Path(path)
    try:
        hasher, size = await asyncio.to_thread(hash_file, path)
    except OSError as exc:
        raise TransferError(f"cannot read {path}: {exc.strerror or exc}") from None
    digest = hasher.hexdigest()
    existing = await stat_artifact(artifacts, digest)
    if existing is not None:
        if progress:
            progress(size, size)
        return existing
    header = artifact_pb2.UploadHeader(kind=kind, size=size, sha256=digest, name=name or path.name)

    async def chunks() -> AsyncIterator[artifact_pb2.UploadChunk]:
        yield artifact_pb2.UploadChunk(header=header)
        sent = 0
        if progress:
            progress(0, size)
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            while data := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield artifact_pb2.UploadChunk(data=data)
                sent += len(data)
                if progress:
                    progress(sent, size)
        finally:
            await asyncio.to_thread(handle.close)

    # A factory, so the session may restart the whole upload if the server was unreachable.
    return await artifacts.Upload(chunks)


async def download_artifact(
    artifacts: Any,
    digest: str,
    dest_path: Path | str,
    progress: Progress | None = None,
    *,
    retry_attempts: int = 3,
) -> Path:
    """Downloads artifact `digest` to `dest_path`, resuming a partial `<dest>.part`, verifying
    the SHA-256 before the final rename. Raises TransferError on a digest mismatch (the
    partial file is deleted so the next try starts clean)."""
    dest = Path(dest_path)
    digest = digest.lower()
    if await asyncio.to_thread(_matches, dest, digest):
        return dest
    part = dest.with_name(dest.name + ".part")
    await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
    hasher, offset = await asyncio.to_thread(_hash_partial, part)
    total = 0
    attempt = 0
    while True:
        received_any = False
        try:
            handle = await asyncio.to_thread(open, part, "ab")
            try:
                request = artifact_pb2.DownloadRequest(digest=digest, offset=offset)
                async for chunk in artifacts.Download(request):
                    received_any = True
                    if chunk.offset and chunk.offset != offset:
                        raise TransferError(
                            f"server sent bytes at {chunk.offset}, expected {offset} ({digest})"
                        )
                    total = chunk.total_size or total
                    await asyncio.to_thread(handle.write, chunk.data)
                    hasher.update(chunk.data)
                    offset += len(chunk.data)
                    if progress:
                        progress(offset, total or offset)
            finally:
                await asyncio.to_thread(handle.close)
            break
        except ClientError as exc:
            bad_offset = exc.code in (
                grpc.StatusCode.OUT_OF_RANGE,
                grpc.StatusCode.INVALID_ARGUMENT,
            )
            if offset and bad_offset and not received_any and attempt == 0:
                # A stale partial file longer than the artifact: start over once.
                await asyncio.to_thread(_unlink, part)
                hasher, offset, attempt = hashlib.sha256(), 0, 1
                continue
            # Mid-stream loss: resume from what we have instead of starting over.
            lost = exc.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
            if received_any and lost and attempt + 1 < retry_attempts:
                attempt += 1
                await asyncio.sleep(0.5 * attempt)
                continue
            raise
    if hasher.hexdigest() != digest:
        await asyncio.to_thread(_unlink, part)
        raise TransferError(
            f"downloaded data does not match its digest {digest[:12]}… "
            f"(got {hasher.hexdigest()[:12]}…); the partial file was deleted"
        )
    await asyncio.to_thread(os.replace, part, dest)
    if progress and total == 0:
        progress(offset, offset)
    return dest


def _hash_partial(part: Path) -> tuple[Any, int]:
    """The hasher and size of what an earlier try downloaded (nothing yet: a fresh one)."""
    try:
        return hash_file(part)
    except FileNotFoundError:
        return hashlib.sha256(), 0


def _matches(path: Path, digest: str) -> bool:
    if not path.is_file():
        return False
    return file_sha256(path) == digest


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
