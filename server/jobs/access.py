"""Who may read an artifact.

`artifact_owners` lists who may read each artifact and how many bytes it counts against
their quota. An uploader owns what they uploaded (size = the artifact's size). Everyone else
who needs to read gets a *read grant*: a row with size 0, which costs no quota:
- a node, when it leases a task: the job's package and the task's input;
- a submitter, when a task of their job is accepted: its result (and the node's own row
  for that result drops to size 0, see release_result_quota).
Grants are never withdrawn, so a node that held a lease may finish a download after it
expired. Checking access is then one primary-key lookup, whatever the history.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, tuple_, update

from server.store.schema import artifact_owners, runtimes


@dataclass(frozen=True)
class Caller:
    """Who is asking, as the domain sees it (built from the RPC principal)."""

    user_id: str
    node_id: str = ""  # set when a node credential is calling
    is_admin: bool = False
    network: str = ""  # where the call came from (server/nodes/networks.py), when it matters

    @property
    def principal_id(self) -> str:
        """The id artifacts are owned by: the node for a node, else the user."""
        return self.node_id or self.user_id


def can_read_artifact(conn: Connection, caller: Caller, digest: str) -> bool:
    if caller.is_admin:
        return True
    owned = conn.execute(
        select(artifact_owners.c.digest).where(
            artifact_owners.c.digest == digest,
            artifact_owners.c.principal_id == caller.principal_id,
        )
    ).first()
    if owned is not None:
        return True
    if caller.node_id:
        # Any node may fetch an approved runtime's image archive.
        runtime = conn.execute(
            select(runtimes.c.name).where(runtimes.c.archive_digest == digest).limit(1)
        ).first()
        return runtime is not None
    return False


def grant_reads(conn: Connection, grants: Iterable[tuple[str, str]]) -> int:
    """Lets each (digest, principal_id) read that artifact; returns how many were new."""
    wanted = {(digest, principal) for digest, principal in grants if digest and principal}
    if not wanted:
        return 0
    existing = set(
        conn.execute(
            select(artifact_owners.c.digest, artifact_owners.c.principal_id).where(
                tuple_(artifact_owners.c.digest, artifact_owners.c.principal_id).in_(sorted(wanted))
            )
        ).all()
    )
    missing = wanted - {tuple(row) for row in existing}
    if missing:
        now = time.time()
        conn.execute(
            insert(artifact_owners),
            [
                {"digest": d, "principal_id": p, "size": 0, "created_at": now}
                for d, p in sorted(missing)
            ],
        )
    return len(missing)


def release_result_quota(conn: Connection, results: Iterable[tuple[str, str]]) -> None:
    """Turns the node's ownership of each accepted (digest, node_id) result into a read
    grant: accepted results stop counting against the node's quota, so an honest node never
    fills it, while results nobody accepted keep counting (a node cannot flood the disk)."""
    pairs = sorted(set(results))
    if pairs:
        conn.execute(
            update(artifact_owners)
            .where(tuple_(artifact_owners.c.digest, artifact_owners.c.principal_id).in_(pairs))
            .values(size=0)
        )


def mark_fetched(conn: Connection, principal_id: str, digest: str, now: float) -> None:
    """Notes that `principal_id` (a node) now holds `digest`: it uploaded or fetched it. Only
    such artifacts may a node list as seeded (server/nodes/registry.py)."""
    conn.execute(
        update(artifact_owners)
        .where(artifact_owners.c.digest == digest, artifact_owners.c.principal_id == principal_id)
        .values(fetched_at=now)
    )
