"""What the views show, as plain values. The bridge converts service objects and protobuf
messages into these, so widgets never see the wire format. No Qt here.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from common.units import UCPT_PER_CPT, format_ucpt

# Sharing states the tray and the overview show.
SHARING = "sharing"  # the worker is on and allowed to run tasks
PAUSED = "paused"  # the worker is on but a policy (or the user) paused it
OFF = "off"  # the user does not share
OFFLINE = "offline"  # sharing is on but the server cannot be reached / nobody is signed in
ERROR = "error"  # the worker stopped on an error it cannot recover from
STOPPING = "stopping"  # sharing is being turned off: the running tasks finish first


# Status codes that mean the server did not answer (down, unreachable, too slow).
UNREACHABLE_STATUSES = ("UNAVAILABLE", "DEADLINE_EXCEEDED")


@dataclass(frozen=True)
class Problem:
    """Something went wrong, kept as data so it is said in the language shown when it is shown
    (app/ui/problems.py words it). `raw` is the original text, in English: what the Details
    disclosure and the log show. `reason` names the case when the server did (see
    server/errors.py) or the app knows it (UNREACHABLE, BAD_AMOUNT, DOCKER_UNAVAILABLE...)."""

    raw: str
    reason: str = ""
    status: str = ""  # the gRPC status name, when a server call failed
    server: str = ""  # the server it was about
    details: tuple[tuple[str, str], ...] = ()  # the values the sentence needs

    def detail(self, name: str, default: str = "") -> str:
        return dict(self.details).get(name, default)

    @property
    def unreachable(self) -> bool:
        return self.reason == "UNREACHABLE" or self.status in UNREACHABLE_STATUSES


def problem_from(exc: BaseException, server: str = "") -> Problem:
    """The Problem of a failed server call (ClientError) or of any other error."""
    from app.services.client.session import ClientError

    if isinstance(exc, ClientError):
        status = exc.code.name
        reason = exc.reason or ("UNREACHABLE" if status in UNREACHABLE_STATUSES else "")
        return Problem(
            raw=exc.message,
            reason=reason,
            status=status,
            server=exc.server or server,
            details=tuple(sorted(exc.details.items())),
        )
    return Problem(raw=str(exc) or type(exc).__name__, server=server)


@dataclass(frozen=True)
class AccountState:
    username: str = ""  # empty = signed out
    server: str = ""
    is_admin: bool = False

    @property
    def signed_in(self) -> bool:
        return bool(self.username)


@dataclass(frozen=True)
class SharingState:
    state: str = OFF
    reason: str = ""  # the policy's reason when paused ("user active", ...), or an error line
    running: int = 0
    problem: Problem | None = None  # why it stopped, for ERROR


@dataclass(frozen=True)
class UsageSample:
    """One moment of this machine: whole-machine use and HiveMind's share of it."""

    cpu_percent: float = 0.0
    memory_percent: float = 0.0
    hivemind_cpu_percent: float = 0.0
    hivemind_memory_percent: float = 0.0
    memory_total_mb: int = 0


@dataclass(frozen=True)
class RunningTask:
    attempt_id: str
    job_id: str
    task_index: int
    started_at: float  # unix seconds
    deadline: float  # unix seconds, 0 = unknown
    cores: int
    memory_mb: int
    paused: bool = False
    comparison: bool = False  # judging two replicas' results of the task, not running it

    def elapsed_s(self, now: float | None = None) -> int:
        return max(0, int((now or time.time()) - self.started_at))


@dataclass(frozen=True)
class ActivityEvent:
    """A line in "recent events" and the source of notifications. Kept structured (not as
    text) so it is shown in whatever language the user switches to later."""

    kind: str  # see texts.activity_text
    at: float = field(default_factory=time.time)
    amount_ucpt: int = 0
    job_id: str = ""
    task_index: int = -1
    detail: str = ""  # a state name, an error line from the server, ...
    problem: Problem | None = None  # for "error": what went wrong, said in the UI's language
    # The worker attempt compared two replicas' results of the task instead of running it; a
    # finished comparison's detail is the worker's verdict ("results differ").
    comparison: bool = False


@dataclass(frozen=True)
class PayoutRow:
    at: int
    job_id: str
    core_seconds: float
    base_ucpt: int
    bonus_ucpt: int
    amount_ucpt: int
    job_name: str = ""
    task_index: int = -1  # -1 = unknown (an older server)


@dataclass(frozen=True)
class EarningsSnapshot:
    balance_ucpt: int = 0  # CPT
    escrow_ucpt: int = 0
    starter_ucpt: int = 0  # starter credit: pays only for the user's own jobs
    today_ucpt: int = 0
    week_ucpt: int = 0
    month_ucpt: int = 0
    days: tuple[tuple[str, int], ...] = ()  # (YYYY-MM-DD, ucpt), oldest first
    payouts: tuple[PayoutRow, ...] = ()  # newest first
    # The zone the days and "today" are in: this computer's, or "UTC" (an older server).
    time_zone: str = ""


@dataclass(frozen=True)
class CostEstimate:
    worst_case_ucpt: int  # what submitting would hold in escrow at most
    funded_from: str  # "cpt", "starter" (starter credit), or "" when neither covers it


@dataclass(frozen=True)
class JobRow:
    job_id: str
    name: str
    state: str  # pending, running, done, failed, cancelled
    tasks_total: int
    tasks_done: int
    tasks_failed: int
    cost_ucpt: int
    max_cost_ucpt: int
    created_at: int
    # How two replicas' results are judged when their digests differ: the job's
    # compare command and its time limit per comparison; empty = by digest only.
    compare_command: tuple[str, ...] = ()
    compare_timeout_s: int = 0
    # A job with rounds: how many, the one it is in (0-based) and the aggregate command.
    rounds: int = 1
    current_round: int = 0
    aggregate_command: tuple[str, ...] = ()
    gpus: int = 0  # per task
    # Why its tasks wait, when no online node offers what they need (the server's words,
    # texts.waiting_text says them in the UI's language); "" otherwise.
    waiting: str = ""

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @property
    def has_rounds(self) -> bool:
        return bool(self.aggregate_command)

    @property
    def progress_percent(self) -> int:
        if not self.tasks_total:
            return 0
        return int(100 * (self.tasks_done + self.tasks_failed) / self.tasks_total)


@dataclass(frozen=True)
class RoundRow:
    """One round of a job with rounds, with what its aggregate wrote to metrics.json."""

    round: int  # 0-based
    state: str  # running, aggregating, done, failed, cancelled
    metrics: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class TaskLog:
    """One task's stored output, for the job's log window."""

    index: int
    state: str  # pending, leased, running, done, failed, cancelled
    log: str
    error: str = ""
    round: int | None = None  # 0-based, for a job with rounds
    aggregate: bool = False  # the round's aggregate, not one of its tasks


@dataclass(frozen=True)
class JobRequest:
    """What the Submit tab asks for; the bridge uploads and submits it."""

    package_path: str
    name: str
    runtime: str
    command: tuple[str, ...]
    task_count: int = 0
    input_files: tuple[str, ...] = ()
    cores: int = 1
    memory_mb: int = 256
    timeout_s: int = 60
    replicas: int = 1
    priority: float = 1.0
    max_cost_ucpt: int = 0  # 0 = the worst case the server computes


def cpt(ucpt: int) -> str:
    """An exact amount: '1.034293 CPT' (tooltips, CSV). The unit is the same in every
    language."""
    return f"{format_ucpt(ucpt)} CPT"


def cpt_short(ucpt: int) -> str:
    """An amount to read at a glance: two decimals from 1 CPT up ('1.03 CPT', '1,234.57 CPT'),
    two significant digits below ('0.034 CPT', '0.0025 CPT': a small payout is not 0), no
    trailing zeros. The exact value goes in a tooltip."""
    value = Decimal(ucpt) / UCPT_PER_CPT
    if value == 0:
        return "0 CPT"
    decimals = 2 if abs(value) >= 1 else min(6, 1 - abs(value).adjusted())
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    text = f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")
    return f"{text} CPT"


def local_time(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s).strftime("%Y-%m-%d %H:%M:%S")


def payouts_csv(payouts: tuple[PayoutRow, ...] | list[PayoutRow]) -> str:
    """Payouts as CSV: amounts in exact integer micro-CPT and as CPT decimal strings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "time_utc",
            "job_id",
            "job_name",
            "task_index",
            "core_seconds",
            "base_ucpt",
            "bonus_ucpt",
            "amount_ucpt",
            "amount_cpt",
        ]
    )
    for p in payouts:
        writer.writerow(
            [
                datetime.fromtimestamp(p.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                p.job_id,
                p.job_name,
                p.task_index if p.task_index >= 0 else "",
                f"{p.core_seconds:.3f}",
                p.base_ucpt,
                p.bonus_ucpt,
                p.amount_ucpt,
                format_ucpt(p.amount_ucpt),
            ]
        )
    return out.getvalue()
