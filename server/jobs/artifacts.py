"""The content-addressed artifact store: files named by their SHA-256 under
`<data_dir>/artifacts/ab/cd/abcd…`, plus the `artifacts` and `artifact_owners` rows.

An upload is written to a temp file while it is hashed; it becomes an artifact only when
its size and digest match what the header promised (and, for a package, when the package
is valid). Existing content is never written twice: a second uploader proves they hold the
bytes by sending them, then just becomes an owner. File I/O runs in threads, never on the
event loop; the file is in place before its row is committed, so a row always has its file.

Replicas of one server (one database, each its own data dir) hold the same artifacts: each
one stored is announced to the others, which fetch it (`ArtifactPeers`, server/rpc/
replicas.py), and a replica asked for one it lacks fetches it first (`ensure_local`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import Connection, Row, func, insert, select

from common.digests import is_digest
from server.config import ServerSettings
from server.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)
from server.jobs.access import Caller, can_read_artifact
from server.jobs.packages import PackageInfo, PackageLimits, validate_package
from server.store.db import Database
from server.store.schema import artifact_owners, artifacts

log = logging.getLogger("hivemind.artifacts")

KINDS = ("package", "input", "result", "runtime")
STALE_UPLOAD_S = 24 * 3600


@dataclass(frozen=True)
class ArtifactRecord:
    digest: str
    size: int
    kind: str
    name: str
    created_at: float


def check_digest(digest: str) -> str:
    """The digest in canonical form (lower-case hex), or a clear error."""
    canonical = (digest or "").strip().lower()
    if not is_digest(canonical):
        raise InvalidArgument(f"not a SHA-256 digest: {digest!r} (64 hex digits expected)")
    return canonical


def _record(row: Row) -> ArtifactRecord:
    return ArtifactRecord(row.digest, row.size, row.kind, row.name, row.created_at)


def _load(conn: Connection, digest: str) -> ArtifactRecord | None:
    row = conn.execute(select(artifacts).where(artifacts.c.digest == digest)).first()
    return _record(row) if row else None


def _usage(conn: Connection, principal_id: str) -> int:
    used = conn.execute(
        select(func.coalesce(func.sum(artifact_owners.c.size), 0)).where(
            artifact_owners.c.principal_id == principal_id
        )
    ).scalar()
    return int(used or 0)


def _owns(conn: Connection, principal_id: str, digest: str) -> bool:
    row = conn.execute(
        select(artifact_owners.c.size).where(
            artifact_owners.c.digest == digest, artifact_owners.c.principal_id == principal_id
        )
    ).first()
    return row is not None


def _check_quota(conn: Connection, principal_id: str, digest: str, size: int, quota: int) -> None:
    if _owns(conn, principal_id, digest):
        return
    used = _usage(conn, principal_id)
    if used + size > quota:
        raise ResourceExhausted(
            f"storage quota exceeded: {used} of {quota} bytes used, this upload needs {size} more"
        )


def _register(
    conn: Connection, caller: Caller, digest: str, size: int, kind: str, name: str, quota: int
) -> ArtifactRecord:
    """Records an uploaded artifact and its owner, in one transaction."""
    _check_quota(conn, caller.principal_id, digest, size, quota)
    now = time.time()
    record = _load(conn, digest)
    if record is None:
        conn.execute(
            insert(artifacts).values(
                digest=digest, size=size, kind=kind, name=name[:255], created_at=now
            )
        )
        record = ArtifactRecord(digest, size, kind, name[:255], now)
    if not _owns(conn, caller.principal_id, digest):
        conn.execute(
            insert(artifact_owners).values(
                digest=digest, principal_id=caller.principal_id, size=size, created_at=now
            )
        )
    return record


def _readable(conn: Connection, caller: Caller, digest: str) -> ArtifactRecord | None:
    record = _load(conn, digest)
    if record is None or not can_read_artifact(conn, caller, digest):
        return None
    return record


def artifact_path(root: Path, digest: str) -> Path:
    """Where a content-addressed file lives under an artifacts dir."""
    return root / digest[:2] / digest[2:4] / digest


def known_artifacts(conn: Connection) -> list[tuple[str, int]]:
    """(digest, size) of every artifact the database records."""
    rows = conn.execute(select(artifacts.c.digest, artifacts.c.size).order_by(artifacts.c.digest))
    return [(row.digest, int(row.size)) for row in rows]


def check_upload_kind(caller: Caller, kind: str) -> None:
    """Who may upload what: users send packages and inputs, nodes send results, and only
    admins add runtime archives (which every node may then fetch)."""
    if kind not in KINDS:
        raise InvalidArgument(f"unknown artifact kind {kind!r} (one of {', '.join(KINDS)})")
    if kind == "result" and not caller.node_id:
        raise PermissionDenied("only a node uploads task results")
    if kind in ("package", "input") and caller.node_id:
        raise PermissionDenied(f"a node credential cannot upload a {kind}; use a user's token")
    if kind == "runtime" and not caller.is_admin:
        raise PermissionDenied("uploading a runtime archive needs the admin role")


class Upload:
    """One upload in progress: `await write(data)` per chunk, then `await finish()`.
    `abort()` (or any error) removes the temp file; nothing is recorded."""

    def __init__(
        self, store: ArtifactStore, caller: Caller, kind: str, size: int, digest: str, name: str
    ) -> None:
        self.store = store
        self.caller = caller
        self.kind = kind
        self.size = size
        self.digest = digest
        self.name = name
        self.received = 0
        self._hash = hashlib.sha256()
        fd, path = tempfile.mkstemp(prefix="upload-", dir=store.tmp_dir)
        self._file = os.fdopen(fd, "wb")
        self.temp_path = Path(path)

    def _write_sync(self, data: bytes) -> None:
        self._hash.update(data)
        self._file.write(data)

    async def write(self, data: bytes) -> None:
        if self.received + len(data) > self.size:
            raise InvalidArgument(
                f"upload is larger than its declared size of {self.size} bytes; nothing stored"
            )
        self.received += len(data)
        await asyncio.to_thread(self._write_sync, data)

    async def finish(self) -> ArtifactRecord:
        try:
            await asyncio.to_thread(self._file.close)
            if self.received != self.size:
                raise InvalidArgument(
                    f"upload ended after {self.received} of {self.size} declared bytes; "
                    "nothing stored"
                )
            actual = self._hash.hexdigest()
            if actual != self.digest:
                raise InvalidArgument(
                    f"upload digest mismatch: header says {self.digest}, data hashes to "
                    f"{actual}; nothing stored"
                )
            if self.kind == "package":
                await self.store.check_package_file(self.temp_path, self.digest)
            await asyncio.to_thread(self.store.place, self.temp_path, self.digest)
            record = await self.store.db.run(
                _register,
                self.caller,
                self.digest,
                self.size,
                self.kind,
                self.name,
                self.store.settings.user_quota_bytes,
            )
            log.info(
                "artifact stored digest=%s size=%d kind=%s owner=%s",
                self.digest,
                self.size,
                record.kind,
                self.caller.principal_id,
            )
            if self.store.peers is not None:
                self.store.peers.stored(self.digest)
            return record
        finally:
            self.discard()  # the temp file is gone either way (moved into place or dropped)

    def discard(self) -> None:
        """Removes the temp file (a close and an unlink: cheap enough for any thread, and
        safe to call while the calling task is being cancelled)."""
        if not self._file.closed:
            self._file.close()
        self.temp_path.unlink(missing_ok=True)

    async def abort(self) -> None:
        await asyncio.to_thread(self.discard)


class ArtifactPeers(Protocol):
    """The other replicas of this server, as far as artifacts go."""

    async def fetch(self, digest: str, dest: Path) -> bool:
        """Writes the artifact's bytes, verified against `digest`, to `dest`; False when no
        other replica has it."""
        ...

    def stored(self, digest: str) -> None:
        """This replica stored a new artifact (the others fetch it). Returns at once."""
        ...


class ArtifactStore:
    def __init__(
        self, settings: ServerSettings, db: Database, peers: ArtifactPeers | None = None
    ) -> None:
        self.settings = settings
        self.db = db
        self.peers = peers
        self._fetching: dict[str, asyncio.Lock] = {}
        self.root = settings.artifacts_dir
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.package_limits = PackageLimits.from_settings(settings)
        # Digests already proven to be valid packages: content-addressed, so it stays true.
        self._valid_packages: dict[str, PackageInfo] = {}
        self._remove_stale_uploads()

    def _remove_stale_uploads(self) -> None:
        # Uploads cut short by a crash; recent ones may belong to another live process.
        cutoff = time.time() - STALE_UPLOAD_S
        for leftover in self.tmp_dir.glob("upload-*"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                pass

    def path_for(self, digest: str) -> Path:
        return artifact_path(self.root, digest)

    async def ensure_local(self, digest: str) -> Path:
        """The artifact's file, fetched from another replica first when this one lacks it
        (without replicas, or when none has it, the path of a missing file)."""
        path = self.path_for(digest)
        if self.peers is None or await asyncio.to_thread(path.is_file):
            return path
        lock = self._fetching.setdefault(digest, asyncio.Lock())
        try:
            async with lock:
                if await asyncio.to_thread(path.is_file):
                    return path
                fd, name = await asyncio.to_thread(
                    tempfile.mkstemp, prefix="replica-", dir=self.tmp_dir
                )
                os.close(fd)
                temp = Path(name)
                try:
                    if await self.peers.fetch(digest, temp):
                        await asyncio.to_thread(self.place, temp, digest)
                        log.info("artifact fetched from a replica digest=%s", digest)
                finally:
                    await asyncio.to_thread(temp.unlink, True)
        finally:
            if not lock.locked():
                self._fetching.pop(digest, None)
        return path

    def place(self, temp_path: Path, digest: str) -> None:
        """Moves verified content to its final name (blocking; call in a thread)."""
        final = self.path_for(digest)
        if final.exists() and final.stat().st_size == temp_path.stat().st_size:
            return  # the same bytes are stored already
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, final)

    async def begin_upload(
        self, caller: Caller, kind: str, size: int, digest: str, name: str = ""
    ) -> Upload:
        """Checks the header (kind, size, quota) before any byte is accepted."""
        check_upload_kind(caller, kind)
        digest = check_digest(digest)
        if size < 0:
            raise InvalidArgument("artifact size must not be negative")
        if size > self.settings.max_artifact_bytes:
            raise InvalidArgument(
                f"artifact of {size} bytes is larger than the server's limit of "
                f"{self.settings.max_artifact_bytes} bytes"
            )
        if kind == "package" and size > self.settings.max_package_bytes:
            raise InvalidArgument(
                f"invalid package: {size} bytes packed, more than the "
                f"{self.settings.max_package_bytes} bytes a package may hold"
            )
        await self.db.run(
            _check_quota, caller.principal_id, digest, size, self.settings.user_quota_bytes
        )
        return await asyncio.to_thread(Upload, self, caller, kind, size, digest, name)

    async def check_package_file(self, path: Path, digest: str) -> PackageInfo:
        info = self._valid_packages.get(digest)
        if info is None:
            info = await asyncio.to_thread(validate_package, path, self.package_limits)
            self._valid_packages[digest] = info
        return info

    async def check_package(self, digest: str) -> PackageInfo:
        """Validates a stored artifact as a job package (cached per digest)."""
        info = self._valid_packages.get(digest)
        if info is not None:
            return info
        path = await self.ensure_local(digest)
        if not await asyncio.to_thread(path.exists):
            raise NotFound(f"package {digest} has no data on the server; upload it again")
        return await self.check_package_file(path, digest)

    async def stat(self, caller: Caller, digest: str) -> ArtifactRecord | None:
        """The artifact, or None when it does not exist or the caller may not read it
        (the two look the same, so digests of others' files do not leak)."""
        return await self.db.run(_readable, caller, check_digest(digest))

    async def download(
        self, caller: Caller, digest: str, offset: int = 0
    ) -> tuple[ArtifactRecord, AsyncIterator[bytes]]:
        """The artifact and its bytes from `offset`, in chunks of settings.chunk_size."""
        digest = check_digest(digest)
        record = await self.db.run(_readable, caller, digest)
        if record is None:
            raise NotFound(f"no artifact {digest}")
        if offset < 0 or offset > record.size:
            raise InvalidArgument(f"offset {offset} is outside the artifact (0..{record.size})")
        # A replica asking for what it lacks gets only what this one holds: asking on would
        # send the two replicas to each other.
        path = self.path_for(digest) if caller.replica else await self.ensure_local(digest)
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            if self.peers is not None:
                if caller.replica:  # it asks the others too
                    raise NotFound(f"artifact {digest} is not on this replica") from None
                # Stored through another replica that is down now: back with it.
                raise Unavailable(
                    f"artifact {digest} is on another replica of this server that does not"
                    " answer now; try again shortly"
                ) from None
            log.error("artifact data missing digest=%s path=%s", digest, path)
            raise NotFound(f"artifact {digest} has no data on the server") from None
        return record, self._chunks(handle, offset)

    async def _chunks(self, handle: BinaryIO, offset: int) -> AsyncIterator[bytes]:
        chunk_size = self.settings.chunk_size
        try:
            await asyncio.to_thread(handle.seek, offset)
            while data := await asyncio.to_thread(handle.read, chunk_size):
                yield data
        finally:
            await asyncio.to_thread(handle.close)
