"""What a submitter asks for, checked before anything touches the database.

`JobRequest` carries the raw values of a submission (as they came off the wire);
`validate_request` turns it into a `JobSpec` with defaults applied, or raises
InvalidArgument with one line that says what to fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from server.config import ServerSettings
from server.errors import InvalidArgument
from server.jobs.artifacts import check_digest
from server.jobs.models import PRIORITY_UNIT, aggregate_replicas
from server.ledger.rewards import worst_case_cost_ucpt

MAX_NAME = 120
MAX_COMMAND_BYTES = 64 * 1024
MAX_INPUT_NAME = 255
MAX_TIMEOUT_S = 86_400
MIN_MEMORY_MB = 16
DEFAULT_DISK_MB = 1024
MAX_REPLICAS = 5
MAX_ATTEMPTS = 20
MAX_IDEMPOTENCY_KEY = 200
MIN_PRIORITY, MAX_PRIORITY = 0.1, 10.0
MAX_JOB_COST_UCPT = 10**17
MAX_ROUNDS = 1000
MAX_ROUND_DEADLINE_S = 7 * 86_400


@dataclass(frozen=True)
class TaskInputRequest:
    digest: str
    name: str = ""


@dataclass(frozen=True)
class JobRequest:
    name: str = ""
    runtime: str = ""
    command: list[str] = field(default_factory=list)
    package_digest: str = ""
    task_count: int = 0
    inputs: list[TaskInputRequest] = field(default_factory=list)
    cores: int = 0
    memory_mb: int = 0
    disk_mb: int = 0
    gpus: int = 0
    timeout_s: int = 0
    max_attempts: int = 0
    replicas: int = 0
    priority: float = 0.0
    max_cost_ucpt: int = 0
    idempotency_key: str = ""
    compare_command: list[str] = field(default_factory=list)
    compare_timeout_s: int = 0
    rounds: int = 0
    aggregate_command: list[str] = field(default_factory=list)
    min_results: int = 0
    round_deadline_s: int = 0


@dataclass(frozen=True)
class Resources:
    cores: int
    memory_mb: int
    disk_mb: int
    gpus: int
    timeout_s: int


@dataclass(frozen=True)
class JobSpec:
    name: str
    runtime: str
    command: list[str]
    package_digest: str
    task_count: int  # equals len(inputs) when the job has inputs
    inputs: list[TaskInputRequest]
    resources: Resources
    max_attempts: int
    replicas: int
    priority_permille: int
    max_cost_ucpt: int  # 0 = the worst case, decided at submission
    idempotency_key: str
    compare_command: list[str] = field(default_factory=list)  # empty: digests must match
    compare_timeout_s: int = 0  # 0 when there is no compare command
    rounds: int = 1
    aggregate_command: list[str] = field(default_factory=list)  # empty: no rounds
    min_results: int = 0  # accepted tasks a round needs; 0 without an aggregate command
    round_deadline_s: int = 0  # 0 = none

    @property
    def tasks_total(self) -> int:
        """Every task the job runs: each round's tasks and, with an aggregate, its aggregate."""
        per_round = self.task_count + (1 if self.aggregate_command else 0)
        return self.rounds * per_round


@dataclass(frozen=True)
class RoundSettings:
    rounds: int
    aggregate_command: list[str]
    min_results: int
    round_deadline_s: int


def priority_permille(priority: float) -> int:
    """A priority multiplier (0 = default x1) in permille, or InvalidArgument."""
    if priority == 0:
        return PRIORITY_UNIT
    if not math.isfinite(priority) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidArgument(
            f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY} (got {priority})"
        )
    return round(priority * PRIORITY_UNIT)


def validate_resources(
    cores: int, memory_mb: int, disk_mb: int, gpus: int, timeout_s: int
) -> Resources:
    if cores < 1:
        raise InvalidArgument(f"cores must be at least 1 (got {cores})")
    if memory_mb < MIN_MEMORY_MB:
        raise InvalidArgument(f"memory must be at least {MIN_MEMORY_MB} MB (got {memory_mb})")
    if disk_mb < 0:
        raise InvalidArgument(f"disk must not be negative (got {disk_mb} MB)")
    if gpus < 0:
        raise InvalidArgument(f"gpus must not be negative (got {gpus})")
    if not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise InvalidArgument(
            f"timeout must be between 1 and {MAX_TIMEOUT_S} seconds (got {timeout_s})"
        )
    return Resources(cores, memory_mb, disk_mb or DEFAULT_DISK_MB, gpus, timeout_s)


def _input_name(item: TaskInputRequest, index: int) -> str:
    name = item.name.strip() or f"input-{index}"
    if len(name) > MAX_INPUT_NAME or name in (".", "..") or any(ch in name for ch in "/\\\x00"):
        raise InvalidArgument(
            f"input name {item.name!r} must be a plain file name (no slashes, at most "
            f"{MAX_INPUT_NAME} characters)"
        )
    return name


def _replicas(replicas: int) -> int:
    if replicas < 0 or replicas > MAX_REPLICAS:
        raise InvalidArgument(f"replicas must be between 1 and {MAX_REPLICAS} (got {replicas})")
    return replicas or 1


def _task_count(request: JobRequest, settings: ServerSettings) -> int:
    limit = settings.max_tasks_per_job
    if request.inputs and request.task_count:
        raise InvalidArgument("give either a task count or inputs, not both")
    if request.inputs:
        if len(request.inputs) > limit:
            raise InvalidArgument(f"a job has at most {limit} inputs (got {len(request.inputs)})")
        return len(request.inputs)
    if not 1 <= request.task_count <= limit:
        raise InvalidArgument(
            f"a job needs a task count between 1 and {limit} or one input per task "
            f"(got task count {request.task_count})"
        )
    return request.task_count


def _command(command: list[str], what: str = "command") -> list[str]:
    if not command or not command[0].strip():
        raise InvalidArgument(f"{what} must be a non-empty list of arguments, e.g. python3 x.py")
    if sum(len(part.encode()) for part in command) > MAX_COMMAND_BYTES:
        raise InvalidArgument(f"{what} is longer than {MAX_COMMAND_BYTES} bytes")
    if any("\x00" in part for part in command):
        raise InvalidArgument(f"{what} arguments must not contain NUL bytes")
    return list(command)


def compare_timeout(
    compare: bool, requested: int, task_timeout_s: int, settings: ServerSettings
) -> int:
    """The comparisons' timeout: 0 without a compare command, else the one asked for (0 = the
    server default, never above the task timeout), or InvalidArgument."""
    if not compare:
        if requested:
            raise InvalidArgument("a compare timeout needs a compare command")
        return 0
    if requested < 0 or requested > task_timeout_s:
        raise InvalidArgument(
            f"compare timeout must be between 1 and the task timeout of {task_timeout_s} s"
            f" (got {requested})"
        )
    return requested or min(max(settings.default_compare_timeout_s, 1), task_timeout_s)


def validate_rounds(
    request: JobRequest, task_count: int, settings: ServerSettings
) -> RoundSettings:
    """The job's rounds, or InvalidArgument: more than one round needs an aggregate command,
    min_results and a round deadline too; every round's tasks and aggregates together stay
    within the tasks a job may have."""
    rounds = request.rounds or 1
    if not 1 <= rounds <= MAX_ROUNDS:
        raise InvalidArgument(f"rounds must be between 1 and {MAX_ROUNDS} (got {request.rounds})")
    aggregate = (
        _command(request.aggregate_command, "aggregate command")
        if request.aggregate_command
        else []
    )
    if not aggregate:
        if rounds > 1:
            raise InvalidArgument(
                f"a job with {rounds} rounds needs an aggregate command: it makes each round's"
                " model from the round's results"
            )
        for name, value in (
            ("min_results", request.min_results),
            ("a round deadline", request.round_deadline_s),
        ):
            if value:
                raise InvalidArgument(f"{name} needs an aggregate command (a job with rounds)")
        return RoundSettings(1, [], 0, 0)
    if not 0 <= request.min_results <= task_count:
        raise InvalidArgument(
            f"min_results must be between 1 and the {task_count} tasks of a round"
            f" (got {request.min_results})"
        )
    if not 0 <= request.round_deadline_s <= MAX_ROUND_DEADLINE_S:
        raise InvalidArgument(
            f"round deadline must be between 1 and {MAX_ROUND_DEADLINE_S} seconds"
            f" (got {request.round_deadline_s})"
        )
    total = rounds * (task_count + 1)
    if total > settings.max_tasks_per_job:
        raise InvalidArgument(
            f"a job has at most {settings.max_tasks_per_job} tasks over all its rounds:"
            f" {rounds} rounds of {task_count} tasks and an aggregate make {total}"
        )
    return RoundSettings(
        rounds, aggregate, request.min_results or task_count, request.round_deadline_s
    )


def validate_request(request: JobRequest, settings: ServerSettings) -> JobSpec:
    name = request.name.strip()
    if len(name) > MAX_NAME:
        raise InvalidArgument(f"job name is longer than {MAX_NAME} characters")
    if not request.runtime.strip():
        raise InvalidArgument("a job needs a runtime, e.g. python-3.11")
    if not request.package_digest:
        raise InvalidArgument("a job needs a package: upload it first, then give its digest")
    task_count = _task_count(request, settings)
    inputs = [
        TaskInputRequest(check_digest(item.digest), _input_name(item, index))
        for index, item in enumerate(request.inputs)
    ]
    max_attempts = request.max_attempts or settings.default_max_attempts
    if not 1 <= max_attempts <= MAX_ATTEMPTS:
        raise InvalidArgument(f"max attempts must be between 1 and {MAX_ATTEMPTS}")
    if request.max_cost_ucpt < 0:
        raise InvalidArgument("max cost must not be negative")
    if len(request.idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(f"idempotency key is longer than {MAX_IDEMPOTENCY_KEY} characters")
    resources = validate_resources(
        request.cores, request.memory_mb, request.disk_mb, request.gpus, request.timeout_s
    )
    compare = (
        _command(request.compare_command, "compare command") if request.compare_command else []
    )
    rounds = validate_rounds(request, task_count, settings)
    return JobSpec(
        name=name or "job",
        runtime=request.runtime.strip(),
        command=_command(request.command),
        package_digest=check_digest(request.package_digest),
        task_count=task_count,
        inputs=inputs,
        resources=resources,
        max_attempts=max_attempts,
        replicas=_replicas(request.replicas),
        priority_permille=priority_permille(request.priority),
        max_cost_ucpt=request.max_cost_ucpt,
        idempotency_key=request.idempotency_key,
        compare_command=compare,
        compare_timeout_s=compare_timeout(
            bool(compare), request.compare_timeout_s, resources.timeout_s, settings
        ),
        rounds=rounds.rounds,
        aggregate_command=rounds.aggregate_command,
        min_results=rounds.min_results,
        round_deadline_s=rounds.round_deadline_s,
    )


def worst_case_for(
    settings: ServerSettings,
    tasks: int,
    replicas: int,
    resources: Resources,
    priority_permille: int,
    compare_timeout_s: int = 0,
    rounds: int = 1,
    aggregate: bool = False,
) -> int:
    """What the job escrows: `replicas` paid results of every task at their worst, plus,
    with a compare command, every comparison a task may need (validation/comparisons.py).
    With rounds, that for every round, and its aggregate's results (aggregate_replicas) and
    their comparisons on top."""
    # (tasks, paid results of each): a round's tasks, then its aggregate.
    kinds = [(rounds * tasks, replicas)]
    if aggregate:
        kinds.append((rounds, aggregate_replicas(replicas)))
    worst = 0
    for count, results in kinds:
        worst += worst_case_cost_ucpt(
            tasks=count,
            replicas=results,
            cores=resources.cores,
            timeout_s=resources.timeout_s,
            base_ucpt_per_core_hour=settings.base_ucpt_per_core_hour,
            priority_permille=priority_permille,
        )
        if compare_timeout_s:
            worst += worst_case_cost_ucpt(
                tasks=count,
                replicas=max_comparisons(results, settings.max_extra_replicas),
                cores=resources.cores,
                timeout_s=compare_timeout_s,
                base_ucpt_per_core_hour=settings.base_ucpt_per_core_hour,
                priority_permille=priority_permille,
            )
    if worst > MAX_JOB_COST_UCPT:  # keeps every amount inside the ledger's 64-bit integers
        raise InvalidArgument(
            f"this job could cost {worst} ucpt, more than the {MAX_JOB_COST_UCPT} ucpt a job"
            " may cost: use fewer tasks, cores or a shorter timeout"
        )
    return worst


def estimate_cost(
    settings: ServerSettings,
    *,
    tasks: int,
    replicas: int,
    priority: float,
    cores: int,
    memory_mb: int,
    disk_mb: int,
    gpus: int,
    timeout_s: int,
    compare: bool = False,
    compare_timeout_s: int = 0,
    rounds: int = 0,
    aggregate: bool = False,
) -> int:
    """The worst case a job with these parameters could cost (what submitting it escrows)."""
    if not 1 <= tasks <= settings.max_tasks_per_job:
        raise InvalidArgument(f"tasks must be between 1 and {settings.max_tasks_per_job}")
    resources = validate_resources(cores, memory_mb, disk_mb, gpus, timeout_s)
    round_settings = validate_rounds(
        JobRequest(rounds=rounds, aggregate_command=["aggregate"] if aggregate else []),
        tasks,
        settings,
    )
    return worst_case_for(
        settings,
        tasks,
        _replicas(replicas),
        resources,
        priority_permille(priority),
        compare_timeout(compare, compare_timeout_s, resources.timeout_s, settings),
        round_settings.rounds,
        aggregate,
    )


def max_comparisons(replicas: int, max_extra_replicas: int) -> int:
    """Comparisons one task may need at worst: every pair of the results it may collect
    (a replicated task, or an unreplicated one that is spot-checked, which needs two)."""
    results = max(replicas, 2) + max(max_extra_replicas, 0)
    return results * (results - 1) // 2
