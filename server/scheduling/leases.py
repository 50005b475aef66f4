"""What a lease is: the request a node sends, the lease it gets back, and the room it has
left while one lease call fills it (shared by scheduler.py and compare_leases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Row, bindparam, select

from server.jobs.rounds import RoundOutput
from server.scheduling.runtime_choice import lease_image
from server.store.schema import artifacts, runtimes


@dataclass(frozen=True)
class LeaseRequest:
    free_cores: int
    free_memory_mb: int
    free_disk_mb: int = 0  # 0 = the node did not say; disk is then not a limit
    free_gpus: int = 0
    max_tasks: int = 1
    # Runtimes the node holds (empty = what it registered): their jobs go first; see
    # runtime_choice for what else it may get.
    runtimes: Sequence[str] = ()


@dataclass(frozen=True)
class Lease:
    attempt_id: str
    task_id: str
    job_id: str
    task_index: int
    runtime: str
    command: list[str]
    package_digest: str
    package_size: int
    input_digest: str
    input_name: str
    input_size: int
    cores: int
    memory_mb: int
    disk_mb: int
    gpus: int
    timeout_s: int
    lease_deadline: float
    runtime_image: str
    runtime_archive_digest: str
    # Set when the lease compares two results instead of running the task: (digest_a,
    # size_a, digest_b, size_b); `command` is then the job's compare command.
    comparison: tuple[str, int, str, int] | None = None
    # A job with rounds (server/jobs/rounds.py): the task's round, how many the job has, the
    # model the round starts from ("" in round 0), and for the round's aggregate (whose
    # `command` is then the aggregate command) every accepted output of the round.
    round: int = 0
    rounds: int = 1
    model_digest: str = ""
    model_size: int = 0
    aggregate_outputs: tuple[RoundOutput, ...] | None = None


@dataclass(frozen=True)
class Leased:
    """What one lease call hands a node: its leases, and why it got fewer than it asked for
    (or none) when that is the node's own standing (quarantine, its day's lease quota)."""

    leases: list[Lease]
    held_back: str = ""
    # Work was kept from the node for what may change with time alone (a hold on a job whose
    # checks it cannot fund lapses: check_funding.py): the next call looks again.
    look_again: bool = False


@dataclass
class Free:
    cores: int
    memory_mb: int
    disk_mb: int | None
    gpus: int

    def fits(self, job: Row) -> bool:
        return (
            job.cores <= self.cores
            and job.memory_mb <= self.memory_mb
            and (self.disk_mb is None or job.disk_mb <= self.disk_mb)
            and job.gpus <= self.gpus
        )

    def take(self, job: Row) -> None:
        self.cores -= job.cores
        self.memory_mb -= job.memory_mb
        self.gpus -= job.gpus
        if self.disk_mb is not None:
            self.disk_mb -= job.disk_mb


RUNTIME_IMAGES = select(
    runtimes.c.name, runtimes.c.image, runtimes.c.image_id, runtimes.c.archive_digest
).where(runtimes.c.name.in_(bindparam("b_names", expanding=True)))
ARTIFACT_SIZES = select(artifacts.c.digest, artifacts.c.size).where(
    artifacts.c.digest.in_(bindparam("b_digests", expanding=True))
)


def runtime_images(conn: Connection, names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Runtime name -> (the image reference a lease names, the artifact holding its archive);
    a runtime not found is left out (its lease then names none)."""
    return {
        row.name: (lease_image(row.image, row.image_id, row.archive_digest), row.archive_digest)
        for row in conn.execute(RUNTIME_IMAGES, {"b_names": sorted(set(names))})
    }


def artifact_sizes(conn: Connection, digests: Sequence[str]) -> dict[str, int]:
    wanted = sorted({digest for digest in digests if digest})
    if not wanted:
        return {}
    return {
        digest: int(size) for digest, size in conn.execute(ARTIFACT_SIZES, {"b_digests": wanted})
    }
