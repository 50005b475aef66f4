"""The content-addressed artifact store: files named by their SHA-256 under
`<data_dir>/artifacts/ab/cd/abcd…`, plus the `artifacts` and `artifact_owners` rows.

An upload is written to a temp file while it is hashed; it becomes an artifact only when
its size and digest match what the header promised (and, for a package, when the package
is valid). Existing content is never written twice: a second uploader proves they hold the
bytes by sending them, then just becomes an owner. File I/O runs in threads, never on the
event loop; the file is in place before its row is committed, so a row always has its file.

Storage is capped per user: what they and all their nodes own (a node's results count against
its owner) plus what their uploads in progress have reserved. The header's size is reserved
in the database before the first byte is accepted, so concurrent uploads (on any replica)
cannot together pass the quota. Whatever a crash or a refusal leaves on disk with no row
naming it (a placed file, a partial upload, an expired reservation) is collected by
`collect_orphans`, which the sweeper runs every `housekeeping_interval_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from common.bounded import BoundedCache
from common.digests import is_digest
from server.config import ServerSettings
from server.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from server.ids import new_id
from server.jobs.access import Caller, can_read_artifact, mark_fetched
from server.jobs.packages import PackageInfo, PackageLimits, validate_package
from server.store.db import Database
from server.store.schema import artifact_owners, artifacts, nodes, upload_reservations

log = logging.getLogger("hivemind.artifacts")

KINDS = ("package", "input", "result", "runtime")
# A temp file (or pulled result) untouched this long belongs to no live upload: removed.
STALE_UPLOAD_S = 3600.0
# A reservation outlives its upload by at most this; a live upload extends its own.
RESERVATION_S = 3600.0
RESERVATION_REFRESH_S = 600.0
# A stored file with no row, placed longer ago than this, is an orphan (the gap between
# placing a file and committing its row is milliseconds).
ORPHAN_GRACE_S = 600.0
# Digests proven to be valid packages, kept so a package is not unzipped again per submit.
VALID_PACKAGES_CACHED = 4096


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


def _owner_principals(owner_id: str) -> Any:
    """The owner and every node of theirs: the ids whose artifacts share one quota."""
    return or_(
        artifact_owners.c.principal_id == owner_id,
        artifact_owners.c.principal_id.in_(select(nodes.c.id).where(nodes.c.owner_id == owner_id)),
    )


def owner_usage(conn: Connection, owner_id: str, now: float) -> int:
    """Bytes counting against a user's quota: what they and their nodes own, plus what their
    uploads in progress have reserved."""
    stored = conn.execute(
        select(func.coalesce(func.sum(artifact_owners.c.size), 0)).where(
            _owner_principals(owner_id)
        )
    ).scalar()
    reserved = conn.execute(
        select(func.coalesce(func.sum(upload_reservations.c.size), 0)).where(
            upload_reservations.c.owner_id == owner_id, upload_reservations.c.expires_at > now
        )
    ).scalar()
    return int(stored or 0) + int(reserved or 0)


def _owns(conn: Connection, principal_id: str, digest: str) -> bool:
    row = conn.execute(
        select(artifact_owners.c.size).where(
            artifact_owners.c.digest == digest, artifact_owners.c.principal_id == principal_id
        )
    ).first()
    return row is not None


def _check_quota(conn: Connection, owner_id: str, size: int, quota: int, now: float) -> None:
    used = owner_usage(conn, owner_id, now)
    if used + size > quota:
        raise ResourceExhausted(
            f"storage quota exceeded: {used} of {quota} bytes used, this upload needs {size} more"
        )


def _reserve(
    conn: Connection, caller: Caller, digest: str, size: int, quota: int, now: float
) -> str:
    """Reserves `size` bytes of the caller's owner's quota for an upload about to start, or
    refuses it; "" when the caller owns those bytes already (they cost nothing more)."""
    if _owns(conn, caller.principal_id, digest):
        return ""
    conn.execute(
        delete(upload_reservations).where(
            upload_reservations.c.owner_id == caller.user_id,
            upload_reservations.c.expires_at <= now,
        )
    )
    _check_quota(conn, caller.user_id, size, quota, now)
    reservation_id = new_id("resv")
    conn.execute(
        insert(upload_reservations).values(
            id=reservation_id, owner_id=caller.user_id, size=size, expires_at=now + RESERVATION_S
        )
    )
    return reservation_id


def _release(conn: Connection, reservation_id: str) -> None:
    conn.execute(delete(upload_reservations).where(upload_reservations.c.id == reservation_id))


def _extend(conn: Connection, reservation_id: str, expires_at: float) -> None:
    conn.execute(
        update(upload_reservations)
        .where(upload_reservations.c.id == reservation_id)
        .values(expires_at=expires_at)
    )


def _register(
    conn: Connection,
    caller: Caller,
    digest: str,
    size: int,
    kind: str,
    name: str,
    quota: int,
    reservation_id: str,
) -> ArtifactRecord:
    """Records an uploaded artifact and its owner, and ends the upload's reservation, in one
    transaction. Without a live reservation (it expired) the quota is checked again."""
    now = time.time()
    reserved = bool(reservation_id) and bool(
        conn.execute(
            delete(upload_reservations).where(
                upload_reservations.c.id == reservation_id,
                upload_reservations.c.expires_at > now,
            )
        ).rowcount
    )
    owned = _owns(conn, caller.principal_id, digest)
    if not owned and not reserved:
        _check_quota(conn, caller.user_id, size, quota, now)
    record = _load(conn, digest)
    if record is None:
        conn.execute(
            insert(artifacts).values(
                digest=digest, size=size, kind=kind, name=name[:255], created_at=now
            )
        )
        record = ArtifactRecord(digest, size, kind, name[:255], now)
    if owned:
        mark_fetched(conn, caller.principal_id, digest, now)
    else:
        conn.execute(
            insert(artifact_owners).values(
                digest=digest,
                principal_id=caller.principal_id,
                size=size,
                created_at=now,
                fetched_at=now,
            )
        )
    return record


def _readable(conn: Connection, caller: Caller, digest: str) -> ArtifactRecord | None:
    record = _load(conn, digest)
    if record is None or not can_read_artifact(conn, caller, digest):
        return None
    return record


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
    `abort()` (or any error) removes the temp file and ends the reservation; nothing is
    recorded."""

    def __init__(
        self,
        store: ArtifactStore,
        caller: Caller,
        kind: str,
        size: int,
        digest: str,
        name: str,
        reservation_id: str = "",
    ) -> None:
        self.store = store
        self.caller = caller
        self.kind = kind
        self.size = size
        self.digest = digest
        self.name = name
        self.reservation_id = reservation_id
        self.received = 0
        self._reserved_at = time.monotonic()
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
        if self.reservation_id and time.monotonic() - self._reserved_at > RESERVATION_REFRESH_S:
            # A long upload keeps its reservation alive; a dead one's expires.
            self._reserved_at = time.monotonic()
            await self.store.db.run(_extend, self.reservation_id, time.time() + RESERVATION_S)

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
            try:
                await asyncio.to_thread(self.store.place, self.temp_path, self.digest)
            except FileNotFoundError:
                # The temp file sat idle so long that the orphan sweep took it.
                raise FailedPrecondition(
                    f"upload of {self.digest} stalled too long and was dropped; send it again"
                ) from None
            record = await self.store.db.run(
                _register,
                self.caller,
                self.digest,
                self.size,
                self.kind,
                self.name,
                self.store.settings.user_quota_bytes,
                self.reservation_id,
            )
            self.reservation_id = ""  # ended by _register's transaction
            log.info(
                "artifact stored digest=%s size=%d kind=%s owner=%s",
                self.digest,
                self.size,
                record.kind,
                self.caller.principal_id,
            )
            return record
        except Exception:
            await self.abort()  # refused: nothing of it is left when the caller hears so
            raise
        finally:
            self.discard()  # the temp file is gone either way (moved into place or dropped)

    def discard(self) -> None:
        """Removes the temp file (a close and an unlink: cheap enough for any thread, and
        safe to call while the calling task is being cancelled) and ends the reservation
        (in the background: this may run while the call is being cancelled)."""
        if not self._file.closed:
            self._file.close()
        self.temp_path.unlink(missing_ok=True)
        if self.reservation_id:
            self.store.release_reservation(self.reservation_id)
            self.reservation_id = ""

    async def abort(self) -> None:
        """discard(), but the reservation ends before this returns (if the database is out of
        reach, it expires on its own)."""
        reservation_id, self.reservation_id = self.reservation_id, ""
        self.discard()
        if reservation_id:
            try:
                await self.store.db.run(_release, reservation_id)
            except Exception as exc:
                log.warning("reservation not released (it expires): %s", exc)


@dataclass(frozen=True)
class CollectedOrphans:
    files: int  # stored files no artifact row names
    temp_files: int  # partial uploads and pulls no live upload writes to
    reservations: int  # expired reservations
    bytes: int


class ArtifactStore:
    def __init__(self, settings: ServerSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.root = settings.artifacts_dir
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.package_limits = PackageLimits.from_settings(settings)
        # Digests already proven to be valid packages: content-addressed, so it stays true.
        self.valid_packages: BoundedCache[str, PackageInfo] = BoundedCache(VALID_PACKAGES_CACHED)
        self._releases: set[asyncio.Task[None]] = set()
        self.remove_stale_temp_files()

    def remove_stale_temp_files(self, now: float | None = None) -> tuple[int, int]:
        """Removes uploads and pulls cut short (a crash, a client gone quiet) that nothing
        wrote to for STALE_UPLOAD_S: recent ones may belong to a live upload, here or on
        another replica. Returns (entries removed, bytes freed). Blocking."""
        cutoff = (time.time() if now is None else now) - STALE_UPLOAD_S
        removed = freed = 0
        for leftover in self.tmp_dir.iterdir():
            if not leftover.name.startswith(("upload-", "pull-")):
                continue
            try:
                if _newest_mtime(leftover) >= cutoff:
                    continue
                size = _tree_bytes(leftover)
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            except OSError:
                continue
            removed += 1
            freed += size
        return removed, freed

    def release_reservation(self, reservation_id: str) -> None:
        """Ends a reservation from any code on the loop, without waiting (see Upload.discard);
        if it cannot run, the reservation expires on its own."""
        try:
            task = asyncio.get_running_loop().create_task(self.db.run(_release, reservation_id))
        except RuntimeError:
            return
        self._releases.add(task)
        task.add_done_callback(self._release_done)

    def _release_done(self, task: asyncio.Task[None]) -> None:
        self._releases.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("reservation not released (it expires): %s", task.exception())

    async def collect_orphans(self, now: float | None = None) -> CollectedOrphans:
        """Removes stored files no artifact row names (a crash or a refusal between placing
        a file and committing its row), partial uploads, and expired reservations."""
        now = time.time() if now is None else now
        temp_files, temp_bytes = await asyncio.to_thread(self.remove_stale_temp_files, now)
        files = freed = 0
        candidates = await asyncio.to_thread(self._stored_files, now - ORPHAN_GRACE_S)
        for start in range(0, len(candidates), 500):  # SQLite caps a statement's parameters
            batch = candidates[start : start + 500]
            known = await self.db.run(_known_digests, [digest for digest, _ in batch])
            for digest, path in batch:
                if digest in known:
                    continue
                size = await asyncio.to_thread(_remove_if_older, path, now - ORPHAN_GRACE_S)
                if size is not None:
                    files += 1
                    freed += size
                    log.info("orphan artifact file removed digest=%s size=%d", digest, size)
        reservations = await self.db.run(_drop_expired_reservations, now)
        return CollectedOrphans(files, temp_files, reservations, freed + temp_bytes)

    def _stored_files(self, placed_before: float) -> list[tuple[str, Path]]:
        """(digest, path) of stored files placed before `placed_before`. Blocking."""
        found: list[tuple[str, Path]] = []
        for first in self.root.iterdir():
            if len(first.name) != 2 or not first.is_dir():
                continue  # tmp/ and anything that is not a digest's folder
            for second in first.iterdir():
                if not second.is_dir():
                    continue
                for path in second.iterdir():
                    if not is_digest(path.name):
                        continue
                    try:
                        if path.stat().st_mtime < placed_before:
                            found.append((path.name, path))
                    except OSError:
                        continue
        return found

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def place(self, temp_path: Path, digest: str) -> None:
        """Moves verified content to its final name (blocking; call in a thread)."""
        final = self.path_for(digest)
        if final.exists() and final.stat().st_size == temp_path.stat().st_size:
            # The same bytes are stored already. Touched: the orphan sweep leaves a file
            # alone for a while after each placing, so it never takes one whose row is
            # about to be committed.
            os.utime(final)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, final)

    async def begin_upload(
        self, caller: Caller, kind: str, size: int, digest: str, name: str = ""
    ) -> Upload:
        """Checks the header (kind, size) and reserves the bytes in the owner's quota before
        any byte is accepted."""
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
        reservation_id = await self.db.run(
            _reserve, caller, digest, size, self.settings.user_quota_bytes, time.time()
        )
        try:
            return await asyncio.to_thread(
                Upload, self, caller, kind, size, digest, name, reservation_id
            )
        except BaseException:
            if reservation_id:
                self.release_reservation(reservation_id)
            raise

    async def check_package_file(self, path: Path, digest: str) -> PackageInfo:
        info = self.valid_packages.get(digest)
        if info is None:
            info = await asyncio.to_thread(validate_package, path, self.package_limits)
            # Kept without the parsed manifest: nothing here reads it, and a stranger's
            # manifest may parse into far more memory than its bytes.
            info = dataclasses.replace(info, manifest={})
            self.valid_packages.put(digest, info)
        return info

    async def check_package(self, digest: str) -> PackageInfo:
        """Validates a stored artifact as a job package (cached per digest)."""
        info = self.valid_packages.get(digest)
        if info is not None:
            return info
        path = self.path_for(digest)
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
        path = self.path_for(digest)
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            log.error("artifact data missing digest=%s path=%s", digest, path)
            raise NotFound(f"artifact {digest} has no data on the server") from None
        return record, self._chunks(handle, offset, caller, digest)

    async def _chunks(
        self, handle: BinaryIO, offset: int, caller: Caller, digest: str
    ) -> AsyncIterator[bytes]:
        chunk_size = self.settings.chunk_size
        try:
            await asyncio.to_thread(handle.seek, offset)
            while data := await asyncio.to_thread(handle.read, chunk_size):
                yield data
        finally:
            await asyncio.to_thread(handle.close)
        if caller.node_id:  # read to the end: the node holds it now, and may seed it
            await self.db.run(mark_fetched, caller.node_id, digest, time.time())


def _known_digests(conn: Connection, digests: list[str]) -> set[str]:
    rows = conn.execute(select(artifacts.c.digest).where(artifacts.c.digest.in_(digests)))
    return set(rows.scalars())


def _drop_expired_reservations(conn: Connection, now: float) -> int:
    return conn.execute(
        delete(upload_reservations).where(upload_reservations.c.expires_at <= now)
    ).rowcount


def _newest_mtime(path: Path) -> float:
    """The latest change under `path` (a file, or a pull's folder). Blocking."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for root, _dirs, files in os.walk(path):
            for name in files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def _tree_bytes(path: Path) -> int:
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _remove_if_older(path: Path, placed_before: float) -> int | None:
    """Removes a file not placed (or touched) since `placed_before`; its size, or None when
    it was kept. Blocking."""
    try:
        info = path.stat()
        if info.st_mtime >= placed_before:
            return None
        path.unlink()
    except OSError:
        return None
    return info.st_size
