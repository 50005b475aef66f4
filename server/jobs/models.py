"""Jobs and tasks as the domain hands them out (protobuf stays at the RPC edge)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Row

# Job states: pending until the first lease, running, then one of the terminal states. A job
# too big for one short transaction is `submitting` while its tasks are created in batches
# (server/jobs/submit.py): nothing of it is leased until all of them exist.
JOB_SUBMITTING = "submitting"
JOB_PENDING = "pending"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"
JOB_CANCELLED = "cancelled"
JOB_ACTIVE_STATES = (JOB_PENDING, JOB_RUNNING)
JOB_UNFINISHED_STATES = (JOB_SUBMITTING, *JOB_ACTIVE_STATES)
JOB_ENDED_STATES = (JOB_DONE, JOB_FAILED, JOB_CANCELLED)

# Task states: pending -> leased -> running -> done | failed | cancelled.
TASK_PENDING = "pending"
TASK_LEASED = "leased"
TASK_RUNNING = "running"
TASK_DONE = "done"
TASK_FAILED = "failed"
TASK_CANCELLED = "cancelled"
TASK_IN_FLIGHT_STATES = (TASK_LEASED, TASK_RUNNING)

# Attempt states: one run of a task on one node.
ATTEMPT_LEASED = "leased"
ATTEMPT_RUNNING = "running"
ATTEMPT_DONE = "done"
ATTEMPT_FAILED = "failed"
ATTEMPT_EXPIRED = "expired"
ATTEMPT_CANCELLED = "cancelled"
ATTEMPT_LIVE_STATES = (ATTEMPT_LEASED, ATTEMPT_RUNNING)

PRIORITY_UNIT = 1000  # priority is stored in permille: 1000 = x1.0

# Rounds (jobs/rounds.py). A round's tasks have indexes 0..round_tasks-1; its aggregate, the
# one task that combines their outputs into the next model, has this index.
AGGREGATE_INDEX = -1
# The aggregate is checked by results of this many owners at least (more when the job asks
# for more replicas): its output is what every later round builds on.
AGGREGATE_MIN_REPLICAS = 2

# Round states (job_rounds.state): its tasks run, then its aggregate, then it ended.
ROUND_RUNNING = "running"
ROUND_AGGREGATING = "aggregating"
ROUND_DONE = "done"
ROUND_FAILED = "failed"
ROUND_CANCELLED = "cancelled"
ROUND_OPEN_STATES = (ROUND_RUNNING, ROUND_AGGREGATING)


def aggregate_replicas(replicas: int) -> int:
    """Results of distinct owners an aggregate is run for: the job's replicas, at least two."""
    return max(AGGREGATE_MIN_REPLICAS, replicas)


def task_label(index: int) -> str:
    """How a task is named in the lines watchers read: "task 3", or "the aggregate"."""
    return "the aggregate" if index == AGGREGATE_INDEX else f"task {index}"


@dataclass(frozen=True)
class JobView:
    job_id: str
    name: str
    state: str
    owner_id: str
    owner: str  # username
    runtime: str
    command: list[str]
    package_digest: str
    cores: int
    memory_mb: int
    disk_mb: int
    gpus: int
    timeout_s: int
    max_attempts: int
    replicas: int
    priority_permille: int
    max_cost_ucpt: int
    cost_ucpt: int
    refunded_ucpt: int
    tasks_total: int
    tasks_done: int
    tasks_failed: int
    tasks_cancelled: int
    tasks_running: int
    created_at: float
    finished_at: float | None
    compare_command: list[str] = field(default_factory=list)
    compare_timeout_s: int = 0
    rounds: int = 1
    aggregate_command: list[str] = field(default_factory=list)  # empty: no rounds
    min_results: int = 0  # accepted tasks a round needs (0 without an aggregate)
    round_deadline_s: int = 0
    round_tasks: int = 0  # tasks per round
    current_round: int = 0

    @property
    def ended(self) -> bool:
        return self.state in JOB_ENDED_STATES

    @property
    def has_rounds(self) -> bool:
        """The job has an aggregate command (map-reduce with one round, or training)."""
        return bool(self.aggregate_command)

    @classmethod
    def from_row(cls, row: Row, owner: str, tasks_running: int) -> JobView:
        return cls(
            job_id=row.id,
            name=row.name,
            state=row.state,
            owner_id=row.owner_id,
            owner=owner,
            runtime=row.runtime,
            command=json.loads(row.command_json),
            package_digest=row.package_digest,
            cores=row.cores,
            memory_mb=row.memory_mb,
            disk_mb=row.disk_mb,
            gpus=row.gpus,
            timeout_s=row.timeout_s,
            max_attempts=row.max_attempts,
            replicas=row.replicas,
            priority_permille=row.priority_permille,
            max_cost_ucpt=row.max_cost_ucpt,
            cost_ucpt=row.cost_ucpt,
            refunded_ucpt=row.refunded_ucpt,
            tasks_total=row.tasks_total,
            tasks_done=row.tasks_done,
            tasks_failed=row.tasks_failed,
            tasks_cancelled=row.tasks_cancelled,
            tasks_running=tasks_running,
            compare_command=json.loads(row.compare_json) if row.compare_json else [],
            compare_timeout_s=row.compare_timeout_s,
            rounds=row.rounds,
            aggregate_command=json.loads(row.aggregate_json) if row.aggregate_json else [],
            min_results=row.min_results,
            round_deadline_s=row.round_deadline_s,
            round_tasks=row.round_tasks,
            current_round=row.current_round,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@dataclass(frozen=True)
class TaskView:
    task_id: str
    index: int
    state: str
    attempts: int
    error: str
    input_name: str
    input_digest: str
    result_digest: str
    result_size: int
    node_id: str
    cost_ucpt: int
    log: str = ""
    verification: str = ""  # verified | unverified | checking | "" (server/validation)
    round: int = 0

    @property
    def aggregate(self) -> bool:
        return self.index == AGGREGATE_INDEX

    @classmethod
    def from_row(cls, row: Row, with_log: bool = False) -> TaskView:
        return cls(
            task_id=row.id,
            index=row.idx,
            state=row.state,
            attempts=row.attempts,
            error=row.error,
            input_name=row.input_name,
            input_digest=row.input_digest,
            result_digest=row.result_digest,
            result_size=row.result_size,
            node_id=row.node_id or "",
            cost_ucpt=row.cost_ucpt,
            log=row.log if with_log else "",
            round=row.round,
        )
