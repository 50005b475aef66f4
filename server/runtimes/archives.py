"""Runtime images as artifacts: an admin's `docker save` archive, stored in the artifact store
as a RUNTIME artifact and recorded with the image id read from its manifest.

No Docker is needed on the server: the archive is read as a tar (common.runtime_archive).
Workers that lack the image fetch the archive by its digest (any node may read an approved
runtime's archive, see server/jobs/access.py), check the image id and `docker load` it; the
lease names the image by that id, so a worker never runs anything but the approved image.

Blocking (copies and hashes the file): for the admin CLI, or call it from a thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select

from common.runtime_archive import ImageArchive, ImageArchiveError, read_image_archive
from server.errors import InvalidArgument, NotFound
from server.jobs.artifacts import ArtifactStore, check_digest
from server.runtimes import approved as runtimes
from server.store.db import Database
from server.store.schema import artifacts

log = logging.getLogger("hivemind.runtimes")

KIND = "runtime"
_COPY_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class StoredArchive:
    digest: str
    size: int
    image: ImageArchive


def inspect_archive(path: Path) -> ImageArchive:
    """The image in a `docker save` file, or InvalidArgument saying what is wrong."""
    try:
        return read_image_archive(path)
    except ImageArchiveError as exc:
        raise InvalidArgument(f"{path.name}: {exc}") from None


def store_archive(store: ArtifactStore, path: Path) -> StoredArchive:
    """Checks the archive, then copies it into the store under its SHA-256 (the file is in
    place before any row names it). Nothing is stored when it is not a one-image archive."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgument(f"no such file: {path}")
    image = inspect_archive(path)
    size = path.stat().st_size
    limit = store.settings.max_artifact_bytes
    if size > limit:
        raise InvalidArgument(
            f"{path.name} is {size} bytes, more than the server's artifact limit of {limit}"
        )
    hasher = hashlib.sha256()
    fd, temp_name = tempfile.mkstemp(prefix="upload-", dir=store.tmp_dir)
    temp = Path(temp_name)
    try:
        with open(path, "rb") as source, os.fdopen(fd, "wb") as target:
            while block := source.read(_COPY_BLOCK):
                hasher.update(block)
                target.write(block)
        digest = hasher.hexdigest()
        store.place(temp, digest)
    finally:
        temp.unlink(missing_ok=True)
    return StoredArchive(digest, size, image)


def stored_archive(store: ArtifactStore, conn: Connection, digest: str) -> StoredArchive:
    """An archive already in the store (uploaded through the API as a RUNTIME artifact)."""
    digest = check_digest(digest)
    row = conn.execute(
        select(artifacts.c.size, artifacts.c.kind).where(artifacts.c.digest == digest)
    ).first()
    if row is None:
        raise NotFound(f"no artifact {digest}; upload the `docker save` file first")
    if row.kind != KIND:
        raise InvalidArgument(f"artifact {digest} is a {row.kind}, not a runtime archive")
    path = store.path_for(digest)
    if not path.is_file():
        raise NotFound(f"artifact {digest} has no data on the server; upload it again")
    return StoredArchive(digest, int(row.size), inspect_archive(path))


def record_archive(conn: Connection, archive: StoredArchive, name: str) -> None:
    """The artifacts row of a stored archive (kept when the bytes were stored before)."""
    exists = conn.execute(select(artifacts.c.kind).where(artifacts.c.digest == archive.digest))
    if exists.first() is None:
        conn.execute(
            insert(artifacts).values(
                digest=archive.digest,
                size=archive.size,
                kind=KIND,
                name=name[:255],
                created_at=time.time(),
            )
        )


def add_runtime_from_archive(
    store: ArtifactStore, db: Database, name: str, path: Path
) -> tuple[runtimes.RuntimeRecord, StoredArchive]:
    """`admin runtime add NAME --image-archive FILE`: stores the archive and (re-)pins the
    runtime to the image it holds, named by its first tag (or its id)."""
    name = runtimes.check_runtime_name(name)
    archive = store_archive(store, Path(path))

    def record(conn: Connection) -> runtimes.RuntimeRecord:
        record_archive(conn, archive, Path(path).name)
        return runtimes.add_runtime(
            conn, name, archive.image.reference, archive.image.image_id, archive.digest
        )

    runtime = db.transaction_sync(record)
    log.debug(
        "runtime name=%s image=%s image_id=%s archive=%s size=%d",
        runtime.name,
        runtime.image,
        runtime.image_id,
        archive.digest,
        archive.size,
    )
    return runtime, archive


def add_runtime_from_reference(
    store: ArtifactStore,
    db: Database,
    name: str,
    image: str,
    image_id: str = "",
    archive_digest: str = "",
) -> runtimes.RuntimeRecord:
    """`admin runtime add NAME --image REF`: a reference pinned by digest or image id, or
    one whose `docker save` archive is already stored (its image id is then read from it)."""
    name = runtimes.check_runtime_name(name)
    runtimes.check_pinned(image, image_id, archive_digest)

    def record(conn: Connection) -> runtimes.RuntimeRecord:
        pinned_id = image_id
        if archive_digest:
            archive = stored_archive(store, conn, archive_digest)
            found = archive.image.image_id
            if pinned_id and pinned_id.removeprefix("sha256:") != found.removeprefix("sha256:"):
                raise InvalidArgument(
                    f"archive {archive.digest} holds image {found}, not {pinned_id}"
                )
            pinned_id = found
        return runtimes.add_runtime(conn, name, image, pinned_id, archive_digest)

    return db.transaction_sync(record)
