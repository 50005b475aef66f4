"""Which jobs a node may lease by runtime, in what order, and how its lease names the image.

A node that holds a runtime's image gets that runtime's jobs first: it starts at once, while
another node would first fetch and load a few hundred MB. A Docker node may still lease jobs
of a runtime it lacks when nothing it holds fits, as long as it can fetch that runtime: the
admin stored its `docker save` archive (or pinned a registry reference by digest, which it
can pull). A process-executor node runs tasks on the host and cannot fetch an image, so it
only gets the runtimes it reports; a node that reports none (and no Docker) gets any job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Row, bindparam, select

from common.digests import is_pinned_reference
from server.runtimes.approved import is_full_image_id
from server.store.schema import nodes, runtimes

FETCHING_EXECUTOR = "docker"


@dataclass(frozen=True)
class RuntimePreference:
    held: frozenset[str]  # the node's runtimes: their jobs go first
    fetchable: frozenset[str]  # runtimes it lacks but can fetch: only to fill what is left
    any_runtime: bool = False  # the node said nothing about runtimes: every job, one pass

    @property
    def names(self) -> list[str]:
        """The runtimes to look for; empty with `any_runtime` means all of them."""
        return sorted(self.held | self.fetchable)

    @property
    def nothing(self) -> bool:
        return not self.any_runtime and not self.names

    def split(self, candidates: list[Row]) -> tuple[list[Row], list[Row]]:
        """(jobs of held runtimes, jobs of runtimes to fetch), each in the given order."""
        if self.any_runtime:
            return candidates, []
        first = [job for job in candidates if job.runtime in self.held]
        rest = [job for job in candidates if job.runtime not in self.held]
        return first, rest


def _fetchable(row: Row) -> bool:
    return bool(row.archive_digest) or is_pinned_reference(row.image or "")


NODE_EXECUTORS = select(nodes.c.executors_json).where(nodes.c.id == bindparam("b_id"))


def runtime_preference(conn: Connection, node_id: str, held: Sequence[str]) -> RuntimePreference:
    executors_json = conn.execute(NODE_EXECUTORS, {"b_id": node_id})
    executors = json.loads(executors_json.scalar() or "[]")
    can_fetch = FETCHING_EXECUTOR in executors
    held_set = frozenset(held)
    if not held_set and not can_fetch:
        return RuntimePreference(frozenset(), frozenset(), any_runtime=True)
    fetchable: frozenset[str] = frozenset()
    if can_fetch:
        rows = conn.execute(select(runtimes.c.name, runtimes.c.image, runtimes.c.archive_digest))
        fetchable = frozenset(row.name for row in rows if _fetchable(row)) - held_set
    return RuntimePreference(held_set, fetchable)


def lease_image(image: str, image_id: str, archive_digest: str) -> str:
    """The image a lease names: the image id when the runtime is pinned by one (the id is the
    config's digest, so a worker runs exactly the approved image, whatever a tag means on its
    machine, and knows what an archive it fetches must hold); else the reference."""
    image_id = (image_id or "").strip().lower()
    if is_full_image_id(image_id):
        return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    return image
