"""Runtimes the admin approved: a name (what jobs ask for) and a docker image reference.

A fresh server knows the default runtime `python-3.11` (image `hivemind/python:3.11`), so
one command starts a working network. What an admin adds is pinned: by a digest reference, an
image id, or a `docker save` archive stored as an artifact (server/runtimes/archives.py).

The default runtime is pinned too: a tag means whatever each machine's Docker says it means,
so workers could run different images under one name. At start the server pins it to the
image id in `default_runtime_image_id`, or else to the id the tag has in this machine's
Docker (where `make runtime-image` built it), once; leases then name the image by that id,
and a worker whose tag is another image does not run it. A server that can learn neither
leaves it unpinned and says so at every start, until an admin pins it (`runtime add`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from common.digests import is_digest, is_pinned_reference
from server.errors import InvalidArgument, NotFound
from server.store.schema import runtimes

DEFAULT_RUNTIME = "python-3.11"
DEFAULT_IMAGE = "hivemind/python:3.11"
RUNTIME_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True)
class RuntimeRecord:
    name: str
    image: str
    image_id: str
    archive_digest: str
    created_at: float


def _record(row: Any) -> RuntimeRecord:
    return RuntimeRecord(
        row.name, row.image, row.image_id or "", row.archive_digest or "", row.created_at
    )


def ensure_default_runtime(conn: Connection) -> None:
    """Seeds the default runtime when no runtime exists yet (first start)."""
    if conn.execute(select(func.count()).select_from(runtimes)).scalar():
        return
    conn.execute(
        insert(runtimes).values(
            name=DEFAULT_RUNTIME,
            image=DEFAULT_IMAGE,
            image_id="",
            archive_digest="",
            created_at=time.time(),
        )
    )


def is_pinned(record: RuntimeRecord) -> bool:
    return bool(
        record.archive_digest
        or is_pinned_reference(record.image)
        or is_full_image_id(record.image_id.lower())
    )


def default_runtime(conn: Connection) -> RuntimeRecord | None:
    row = conn.execute(select(runtimes).where(runtimes.c.name == DEFAULT_RUNTIME)).first()
    return _record(row) if row else None


def pin_default_runtime(conn: Connection, image_id: str) -> bool:
    """Pins the default runtime to `image_id` (a full image id) if it is still unpinned;
    True when it did. A pinned runtime is re-pinned only by an admin (`add_runtime`)."""
    image_id = image_id.strip().lower()
    if not is_full_image_id(image_id):
        raise InvalidArgument(f"not a full image id: {image_id!r} (expected sha256:<64 hex>)")
    record = default_runtime(conn)
    if record is None or is_pinned(record):
        return False
    image_id = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    conn.execute(
        update(runtimes).where(runtimes.c.name == DEFAULT_RUNTIME).values(image_id=image_id)
    )
    return True


def local_image_id(image: str, timeout_s: float = 5.0) -> str:
    """The id `image` has in this machine's Docker, or "" (no daemon, no such image).
    Blocking: call it from a thread."""
    try:
        import docker

        client = docker.from_env(timeout=timeout_s)
    except Exception:  # no Docker SDK settings, or no daemon here
        return ""
    try:
        image_id = str(client.api.inspect_image(image).get("Id") or "")
    except Exception:  # no such image, or the daemon went away
        return ""
    finally:
        client.close()
    return image_id if is_full_image_id(image_id.lower()) else ""


def list_runtimes(conn: Connection) -> list[RuntimeRecord]:
    return [_record(r) for r in conn.execute(select(runtimes).order_by(runtimes.c.name))]


def get_runtime(conn: Connection, name: str) -> RuntimeRecord:
    row = conn.execute(select(runtimes).where(runtimes.c.name == name)).first()
    if row is None:
        known = ", ".join(r.name for r in list_runtimes(conn)) or "none"
        raise NotFound(f"unknown runtime {name!r} (known: {known})")
    return _record(row)


def is_full_image_id(image_id: str) -> bool:
    """A whole image id, with or without its `sha256:` prefix (not a short one)."""
    return is_digest(image_id.removeprefix("sha256:"))


def check_runtime_name(name: str) -> str:
    """The name, or a clear error (checked before any heavy work on its image)."""
    name = (name or "").strip()
    if not RUNTIME_NAME_RE.fullmatch(name):
        raise InvalidArgument(
            f"invalid runtime name {name!r}: lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def check_pinned(image: str, image_id: str = "", archive_digest: str = "") -> None:
    """Refuses an image an admin could not vouch for: a runtime is pinned by a digest
    reference (REF@sha256:...), a full image id, or an image archive stored as an artifact."""
    image = (image or "").strip()
    if not image or any(c.isspace() for c in image):
        raise InvalidArgument("a runtime needs an image reference such as hivemind/python:3.11")
    if is_pinned_reference(image) or archive_digest:
        return
    if is_full_image_id((image_id or "").strip().lower()):
        return
    raise InvalidArgument(
        f"image {image!r} is not pinned: give it by digest (REPOSITORY@sha256:<64 hex>),"
        " with --image-id sha256:<64 hex>, or as a `docker save` file with --image-archive"
    )


def add_runtime(
    conn: Connection, name: str, image: str, image_id: str = "", archive_digest: str = ""
) -> RuntimeRecord:
    """Adds a runtime, or updates the image of an existing one (re-pinning it)."""
    name = check_runtime_name(name)
    image = (image or "").strip()
    image_id = (image_id or "").strip()
    archive_digest = (archive_digest or "").strip().lower()
    if not image or any(c.isspace() for c in image):
        raise InvalidArgument("a runtime needs an image reference such as hivemind/python:3.11")
    if image_id and not re.fullmatch(r"(sha256:)?[0-9a-f]{12,64}", image_id):
        raise InvalidArgument(f"invalid image id {image_id!r} (expected sha256:<hex>)")
    if archive_digest and not is_digest(archive_digest):
        raise InvalidArgument("archive digest must be 64 hex digits (sha256)")
    values = {"image": image, "image_id": image_id, "archive_digest": archive_digest}
    exists = conn.execute(select(runtimes.c.name).where(runtimes.c.name == name)).first()
    if exists:
        conn.execute(update(runtimes).where(runtimes.c.name == name).values(**values))
    else:
        conn.execute(insert(runtimes).values(name=name, created_at=time.time(), **values))
    return get_runtime(conn, name)
