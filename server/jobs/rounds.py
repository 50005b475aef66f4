"""Rounds: jobs whose tasks run again and again from a model that an aggregate command makes
(data-parallel training; `rounds = 1` is map-reduce).

A job with an aggregate command runs `rounds` rounds of `round_tasks` tasks (one per input,
or a task count: the same inputs every round). Round r's tasks see the current model
read-only (round 0 has none). Once enough of them are accepted (`min_results`, and the round
deadline: server/validation/rounds.py decides), the round's aggregate runs as one more task
on a worker, over every accepted output of the round and the same model, replicated on nodes
of two owners at least and verified like any result; its accepted output is the next round's
model, and the last round's is the job's result. Only then are the next round's tasks made.

What a task of a round sees (the worker mounts it; app/services/executors):
- HIVEMIND_MODEL: the round's model, unpacked read-only (/model); empty in round 0;
- HIVEMIND_RESULTS, for the aggregate only: one folder per accepted output, named by its
  task index zero-padded to one width (/results/07), read-only; a task that wrote nothing
  gives an empty folder;
- HIVEMIND_ROUND and HIVEMIND_ROUNDS: the round (0-based) and how many there are;
- the aggregate's HIVEMIND_TASK_INDEX is -1 and it has no input; what it writes to
  HIVEMIND_OUTPUT is the next model. A `metrics.json` at its root (a JSON object) gives the
  round's numbers people see (`job status`, the app's chart): its finite numbers are kept.

Every round has a `job_rounds` row. Its tasks are rows of `tasks` with their round, the
aggregate among them with index AGGREGATE_INDEX. `jobs.tasks_total` counts every task of
every round from the start (rounds x (round_tasks + 1)), so a job's progress and end work as
for any job: tasks of rounds that will never run (the job failed or was cancelled first)
are counted as cancelled when that becomes known.

This module holds the rows; server/validation/rounds.py moves rounds along.
"""

from __future__ import annotations

import functools
import json
import math
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Row, insert, select

from server.ids import new_id
from server.jobs.models import AGGREGATE_INDEX, TASK_DONE, TASK_PENDING
from server.store.schema import job_rounds, tasks

METRICS_FILE = "metrics.json"
MAX_METRICS_BYTES = 64 * 1024
MAX_METRICS = 32
MAX_METRIC_NAME = 64

ArtifactPath = Callable[[str], Path]  # digest -> where the artifact store keeps its bytes


@dataclass(frozen=True)
class RoundOutput:
    """One accepted output of a round, as its aggregate gets it."""

    task_index: int
    digest: str  # empty: the task wrote nothing
    size: int


@dataclass(frozen=True)
class RoundView:
    round: int
    state: str  # running aggregating done failed cancelled (jobs/models.py ROUND_*)
    tasks_accepted: int
    model_digest: str
    result_digest: str
    result_size: int
    started_at: float
    closed_at: float | None
    ended_at: float | None
    error: str
    metrics: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Row, metrics: dict[str, float] | None = None) -> RoundView:
        return cls(
            round=row.round,
            state=row.state,
            tasks_accepted=row.tasks_accepted,
            model_digest=row.model_digest,
            result_digest=row.result_digest,
            result_size=row.result_size,
            started_at=row.started_at,
            closed_at=row.closed_at,
            ended_at=row.ended_at,
            error=row.error,
            metrics=metrics or {},
        )


def start_round(conn: Connection, job_id: str, round_index: int, model: str, now: float) -> None:
    """The round's row: running, from `model` (the previous round's output; "" in round 0)."""
    conn.execute(
        insert(job_rounds).values(
            job_id=job_id,
            round=round_index,
            state="running",
            model_digest=model,
            tasks_accepted=0,
            result_digest="",
            result_size=0,
            error="",
            started_at=now,
        )
    )


def task_row(job_id: str, round_index: int, index: int, now: float, **inputs: object) -> dict:
    """A pending task of a round (`inputs`: input_digest, input_name, input_size)."""
    return {
        "id": new_id("task"),
        "job_id": job_id,
        "round": round_index,
        "idx": index,
        "state": TASK_PENDING,
        "input_digest": "",
        "input_name": "",
        "input_size": 0,
        "attempts": 0,
        "error": "",
        "result_digest": "",
        "result_size": 0,
        "cost_ucpt": 0,
        "log": "",
        "updated_at": now,
        **inputs,
    }


def create_round_tasks(conn: Connection, job_id: str, round_index: int, now: float) -> int:
    """The round's tasks, pending, with the inputs round 0's tasks have; how many."""
    rows = conn.execute(
        select(tasks.c.idx, tasks.c.input_digest, tasks.c.input_name, tasks.c.input_size)
        .where(tasks.c.job_id == job_id, tasks.c.round == 0, tasks.c.idx >= 0)
        .order_by(tasks.c.idx)
    ).all()
    if rows:
        conn.execute(
            insert(tasks),
            [
                task_row(
                    job_id,
                    round_index,
                    row.idx,
                    now,
                    input_digest=row.input_digest,
                    input_name=row.input_name,
                    input_size=row.input_size,
                )
                for row in rows
            ],
        )
    return len(rows)


def create_aggregate_task(conn: Connection, job_id: str, round_index: int, now: float) -> None:
    conn.execute(insert(tasks).values(**task_row(job_id, round_index, AGGREGATE_INDEX, now)))


def tasks_never_made(rounds: int, round_tasks: int, round_index: int, aggregate_made: bool) -> int:
    """Tasks of the job that will not be made when it stops in `round_index`: the rounds
    after it, and this round's aggregate unless it was made."""
    later = max(0, rounds - 1 - round_index) * (round_tasks + 1)
    return later + (0 if aggregate_made else 1)


def round_outputs(conn: Connection, job_id: str, round_index: int) -> list[RoundOutput]:
    """The accepted outputs of a round's tasks, by task index."""
    rows = conn.execute(
        select(tasks.c.idx, tasks.c.result_digest, tasks.c.result_size)
        .where(
            tasks.c.job_id == job_id,
            tasks.c.round == round_index,
            tasks.c.idx >= 0,
            tasks.c.state == TASK_DONE,
        )
        .order_by(tasks.c.idx)
    ).all()
    return [RoundOutput(row.idx, row.result_digest, int(row.result_size)) for row in rows]


def round_models(conn: Connection, keys: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """(job id, round) -> the model that round's tasks start from, for the keys that have one."""
    found: dict[tuple[str, int], str] = {}
    for job_id in sorted({job_id for job_id, _ in keys}):
        rows = conn.execute(
            select(job_rounds.c.round, job_rounds.c.model_digest).where(
                job_rounds.c.job_id == job_id,
                job_rounds.c.round.in_(sorted(r for j, r in keys if j == job_id)),
            )
        )
        found.update(((job_id, row.round), row.model_digest) for row in rows)
    return found


def load_rounds(conn: Connection, job_id: str) -> list[Row]:
    return conn.execute(
        select(job_rounds).where(job_rounds.c.job_id == job_id).order_by(job_rounds.c.round)
    ).all()


def round_views(rows: list[Row], artifact_path: ArtifactPath) -> list[RoundView]:
    """The rounds with the metrics of each accepted aggregate output (blocking: it reads
    the stored results; call it in a thread)."""
    return [
        RoundView.from_row(row, stored_metrics(artifact_path(row.result_digest)))
        if row.result_digest
        else RoundView.from_row(row)
        for row in rows
    ]


def stored_metrics(path: Path) -> dict[str, float]:
    """The finite numbers of `metrics.json` at the root of a stored result, or {} when it has
    none (or it is unreadable). A result is content-addressed, so what it holds never changes
    and is read once per process."""
    try:
        return dict(_metrics_of(path))
    except (OSError, zipfile.BadZipFile, ValueError, KeyError):
        return {}


@functools.lru_cache(maxsize=4096)
def _metrics_of(path: Path) -> tuple[tuple[str, float], ...]:
    started = time.monotonic()
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(METRICS_FILE)
        except KeyError:
            return ()
        if info.file_size > MAX_METRICS_BYTES:
            return ()
        with archive.open(info) as handle:
            # The size in the header is the uploader's claim: never read more than the cap.
            data = handle.read(MAX_METRICS_BYTES + 1)
    if len(data) > MAX_METRICS_BYTES or time.monotonic() - started > 5:
        return ()
    return metrics_from_json(data)


def metrics_from_json(data: bytes) -> tuple[tuple[str, float], ...]:
    """The first MAX_METRICS finite numbers of a JSON object, by name (booleans are not
    numbers here); anything else gives nothing."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ()
    if not isinstance(document, dict):
        return ()
    kept: list[tuple[str, float]] = []
    for name, value in document.items():
        if len(kept) >= MAX_METRICS:
            break
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            continue
        if math.isfinite(number) and 0 < len(name) <= MAX_METRIC_NAME:
            kept.append((name, number))
    return tuple(kept)
