"""Comparing results whose digests differ, for jobs that name a compare command.

Some outputs differ and are still right (floating point, random sampling). Such a job names
a compare command. Results of a task fall into groups: equal digests are one group at once;
a result with a new digest is compared with each group's first result (its representative),
in order, until one says "same" (it joins that group) or all say "different" (it starts a
group). Each comparison is leased, like a task, to a node of a third owner: not the job's
owner, and no owner that holds or delivered a result of the task (it would judge its own
result). The node runs the command in the job's runtime with both results unpacked at
/results/a and /results/b; exit 0 = same, 1 = different. The quorum is then counted over
groups (quorum.py). A comparison that fails or expires is leased again; after the
job's max attempts the task fails with the last error.

A comparison is paid like a task for the time it measured, capped by the job's compare
timeout; the job's worst case includes every comparison its tasks may need (jobs/spec.py).
The comparing node's reports are judged here too: a verdict is recorded and the node paid;
a comparison that failed or expired is leased again, or, after the job's max attempts, its
task fails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, insert, select, update

from server.config import ServerSettings
from server.ids import new_id
from server.jobs.effects import Effects
from server.jobs.models import (
    ATTEMPT_DONE,
    ATTEMPT_EXPIRED,
    ATTEMPT_FAILED,
    TASK_DONE,
    TASK_FAILED,
    task_label,
)
from server.ledger.payouts import EscrowTracker, PayoutOrder, paid_amounts, pay
from server.ledger.rewards import measured_core_ms, reward_for
from server.nodes.trust import EarningsCaps, node_bonuses
from server.store.schema import attempts, jobs, result_checks, result_comparisons, tasks
from server.validation.attempts import (
    Ack,
    Completion,
    capped_log,
    outcome_values,
    record_attempt_outcomes,
    refusal,
)
from server.validation.replicas import INCONCLUSIVE, PENDING, abandon_tasks

OPEN, LEASED, DECIDED, DROPPED, FAILED = "open", "leased", "decided", "dropped", "failed"
SAME, DIFFERENT = "same", "different"
ASKED = ""  # a comparison is open or leased: its verdict is awaited
VERDICT_OF_EXIT = {0: SAME, 1: DIFFERENT}


@dataclass
class Group:
    """Results judged equivalent; the first digest is the group's representative."""

    digests: list[str]
    results: list[Row] = field(default_factory=list)

    @property
    def representative(self) -> str:
        return self.digests[0]

    @property
    def owners(self) -> int:
        """Independent agreeing results: an owner's second node adds none."""
        return len({result.owner_id for result in self.results})


@dataclass
class Grouping:
    groups: list[Group] = field(default_factory=list)
    unresolved: list[Row] = field(default_factory=list)  # waiting for a comparison
    needed: list[tuple[str, str]] = field(default_factory=list)  # comparisons to ask for

    def best(self) -> Group | None:
        return max(self.groups, key=lambda group: group.owners, default=None)


def verdict_of(verdicts: Mapping[tuple[str, str], str], a: str, b: str) -> str | None:
    """SAME, DIFFERENT, ASKED (awaited) or None (never asked)."""
    found = verdicts.get((a, b))
    return found if found is not None else verdicts.get((b, a))


def group_results(
    results: Sequence[Row], verdicts: Mapping[tuple[str, str], str], comparing: bool
) -> Grouping:
    """Groups results (in arrival order) by digest, and with a compare command also by the
    verdicts so far; lists the comparisons still needed to place the others."""
    grouping = Grouping()
    home: dict[str, Group] = {}
    waiting: set[str] = set()
    for result in results:
        digest = result.result_digest
        if digest in home:
            home[digest].results.append(result)
            continue
        if digest in waiting:
            grouping.unresolved.append(result)
            continue
        joined: Group | None = None
        blocked = False
        for group in grouping.groups if comparing else ():
            verdict = verdict_of(verdicts, group.representative, digest)
            if verdict == SAME:
                joined = group
                break
            if verdict == DIFFERENT:
                continue
            blocked = True
            if verdict is None:
                grouping.needed.append((group.representative, digest))
            break
        if blocked:
            waiting.add(digest)
            grouping.unresolved.append(result)
            continue
        if joined is None:
            joined = Group([digest])
            grouping.groups.append(joined)
        else:
            joined.digests.append(digest)
        joined.results.append(result)
        home[digest] = joined
    return grouping


def load_verdicts(conn: Connection, task_ids: Iterable[str]) -> dict[str, dict]:
    """Per task: (digest_a, digest_b) -> SAME, DIFFERENT or ASKED. A comparison that failed
    for good (or that nobody could make: way_out.py) never showed two results the same:
    DIFFERENT."""
    ids = sorted(set(task_ids))
    found: dict[str, dict] = defaultdict(dict)
    if not ids:
        return found
    rows = conn.execute(
        select(
            result_comparisons.c.task_id,
            result_comparisons.c.digest_a,
            result_comparisons.c.digest_b,
            result_comparisons.c.state,
            result_comparisons.c.verdict,
        ).where(
            result_comparisons.c.task_id.in_(ids),
            result_comparisons.c.state.in_((OPEN, LEASED, DECIDED, FAILED)),
        )
    )
    for row in rows:
        verdict = {DECIDED: row.verdict, FAILED: DIFFERENT}.get(row.state, ASKED)
        found[row.task_id][(row.digest_a, row.digest_b)] = verdict
    return found


def request_comparisons(
    conn: Connection, wanted: Sequence[tuple[str, str, str, str]], now: float
) -> None:
    """Opens comparisons (task id, job id, digest a, digest b) not asked for yet; one that
    was dropped is opened again."""
    if not wanted:
        return
    existing = {
        (row.task_id, row.digest_a, row.digest_b): row
        for row in conn.execute(
            select(
                result_comparisons.c.id,
                result_comparisons.c.task_id,
                result_comparisons.c.digest_a,
                result_comparisons.c.digest_b,
                result_comparisons.c.state,
            ).where(result_comparisons.c.task_id.in_(sorted({w[0] for w in wanted})))
        )
    }
    rows, reopen = [], []
    for task_id, job_id, a, b in dict.fromkeys(wanted):
        row = existing.get((task_id, a, b))
        if row is None:
            rows.append(
                {
                    "id": new_id("cmp"),
                    "task_id": task_id,
                    "job_id": job_id,
                    "digest_a": a,
                    "digest_b": b,
                    "state": OPEN,
                    "verdict": "",
                    "attempt_id": None,
                    "created_at": now,
                    "decided_at": None,
                }
            )
        elif row.state == DROPPED:
            reopen.append(row.id)
    if rows:
        conn.execute(insert(result_comparisons), rows)
    if reopen:
        conn.execute(
            update(result_comparisons)
            .where(result_comparisons.c.id.in_(reopen))
            .values(state=OPEN, attempt_id=None)
        )


def drop_comparisons(
    conn: Connection, task_ids: Iterable[str], keep_with: str | None, now: float
) -> None:
    """Comparisons no longer needed (not yet leased): the task ended, or it was accepted and
    only comparisons with the accepted result (`keep_with`) still matter."""
    ids = sorted(set(task_ids))
    if not ids:
        return
    query = update(result_comparisons).where(
        result_comparisons.c.task_id.in_(ids), result_comparisons.c.state == OPEN
    )
    if keep_with is not None:
        query = query.where(
            result_comparisons.c.digest_a != keep_with, result_comparisons.c.digest_b != keep_with
        )
    conn.execute(query.values(state=DROPPED, decided_at=now))


# What comparing nodes report --------------------------------------------------------------


def _comparisons(conn: Connection, rows: Iterable[Row]) -> dict[str, Row]:
    ids = sorted({row.comparison_id for row in rows})
    if not ids:
        return {}
    found = conn.execute(
        select(
            result_comparisons,
            jobs.c.compare_timeout_s,
            jobs.c.max_attempts,
            tasks.c.state.label("task_state"),
            tasks.c.idx,
        )
        .join(jobs, jobs.c.id == result_comparisons.c.job_id)
        .join(tasks, tasks.c.id == result_comparisons.c.task_id)
        .where(result_comparisons.c.id.in_(ids))
    )
    return {row.id: row for row in found}


def complete_comparisons(
    conn: Connection,
    node_id: str,
    node_owner_id: str,
    items: Sequence[Completion],
    rows: Mapping[str, Row],
    escrow: EscrowTracker,
    settings: ServerSettings,
    now: float,
    effects: Effects,
) -> tuple[dict[str, Ack], set[str]]:
    """Records the verdicts of comparison attempts and pays the nodes that compared; returns
    each attempt's ack and the tasks that have a new verdict (to settle)."""
    acks: dict[str, Ack] = {}
    to_settle: set[str] = set()
    if not items:
        return acks, to_settle
    found = _comparisons(conn, [rows[item.attempt_id] for item in items])
    replays = paid_amounts(conn, [item.attempt_id for item in items])
    bonuses = node_bonuses(conn, [node_id], settings, now).get(node_id)
    caps = EarningsCaps(conn, settings, now)
    attempt_values: list[dict] = []
    orders: list[PayoutOrder] = []
    decided: list[dict] = []
    for item in items:
        row = rows[item.attempt_id]
        if item.attempt_id in acks:
            continue
        if row.state == ATTEMPT_DONE and row.node_id == node_id:
            paid = replays.get(row.id, 0)
            acks[item.attempt_id] = Ack(row.id, True, "already completed", paid)
            continue
        reason = refusal(row, item.attempt_id, node_id)
        if reason is None and item.exit_code not in VERDICT_OF_EXIT:
            reason = (
                f"a comparison completes with exit code 0 (same) or 1 (different), not "
                f"{item.exit_code}; report it as a failure"
            )
        if reason is None and item.result_digest:
            reason = "a comparison has no result; complete it without one"
        if reason is not None:
            acks[item.attempt_id] = Ack(item.attempt_id, False, reason)
            continue
        comparison = found[row.comparison_id]
        verdict = VERDICT_OF_EXIT[item.exit_code]
        attempt_values.append(
            outcome_values(
                row.id,
                ATTEMPT_DONE,
                now,
                exit_code=item.exit_code,
                error="",
                log=capped_log(item.log, settings.max_log_bytes),
                stats=item.stats,
            )
        )
        wall = min(item.stats.wall_seconds or 0.0, max(0.0, now - row.leased_at))
        reward = reward_for(
            base_ucpt_per_core_hour=settings.base_ucpt_per_core_hour,
            core_ms=measured_core_ms(wall, comparison.compare_timeout_s, row.cores),
            priority_permille=row.priority_permille,
            performance_bonus_permille=bonuses.performance_permille if bonuses else 0,
            stability_bonus_permille=bonuses.stability_permille if bonuses else 0,
        )
        amount = escrow.draw(row.escrow_account_id, caps.allow(node_id, reward.amount_ucpt))
        orders.append(
            PayoutOrder(
                attempt_id=row.id,
                job_id=row.job_id,
                node_id=node_id,
                user_id=node_owner_id,
                escrow_account_id=row.escrow_account_id,
                reward=reward,
                amount_ucpt=amount,
            )
        )
        effects.deltas[row.job_id].cost_ucpt += amount
        still_asked = comparison.state == LEASED and comparison.attempt_id == row.id
        if still_asked:
            decided.append({"id": comparison.id, "verdict": verdict})
            to_settle.add(row.task_id)
            effects.say(
                row.job_id,
                f"{task_label(comparison.idx)}: results"
                f" {comparison.digest_a[:12] or 'no output'} and "
                f"{comparison.digest_b[:12] or 'no output'} compared: {verdict}",
            )
        note = f"compared: {verdict}" if still_asked else "compared; the task no longer needed it"
        acks[item.attempt_id] = Ack(row.id, True, note, amount)
    record_attempt_outcomes(conn, attempt_values)
    for values in decided:
        conn.execute(
            update(result_comparisons)
            .where(result_comparisons.c.id == values["id"])
            .values(state=DECIDED, verdict=values["verdict"], decided_at=now)
        )
    pay(conn, orders, now)
    caps.write()
    for order in orders:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == rows[order.attempt_id].task_id)
            .values(cost_ucpt=tasks.c.cost_ucpt + order.amount_ucpt, updated_at=now)
        )
    return acks, to_settle


def release_comparisons(
    conn: Connection,
    rows: Sequence[Row],
    errors: Mapping[str, str],
    now: float,
    effects: Effects,
) -> None:
    """Comparison attempts that failed or expired (already written as such): each
    comparison is leased again, or after the job's max attempts its task fails."""
    found = _comparisons(conn, rows)
    reopen: list[str] = []
    failed_tasks: list[dict] = []
    for row in rows:
        comparison = found.get(row.comparison_id)
        if comparison is None or comparison.state != LEASED or comparison.attempt_id != row.id:
            continue
        tries = conn.execute(
            select(attempts.c.id).where(
                attempts.c.comparison_id == comparison.id,
                attempts.c.state.in_((ATTEMPT_FAILED, ATTEMPT_EXPIRED)),
            )
        ).all()
        error = errors.get(row.id, "the comparison failed")
        if len(tries) < comparison.max_attempts:
            reopen.append(comparison.id)
            effects.say(
                row.job_id,
                f"{task_label(comparison.idx)}: a comparison failed ({error});"
                " another node compares",
            )
            continue
        conn.execute(
            update(result_comparisons)
            .where(result_comparisons.c.id == comparison.id)
            .values(state=FAILED, decided_at=now)
        )
        reason = f"the compare command failed {len(tries)} times, last: {error}"
        if comparison.task_state == TASK_DONE:
            # A late result that could not be judged against the accepted one: not paid.
            conn.execute(
                update(result_checks)
                .where(
                    result_checks.c.task_id == comparison.task_id,
                    result_checks.c.result_digest == comparison.digest_b,
                    result_checks.c.status == PENDING,
                )
                .values(status=INCONCLUSIVE, decided_at=now)
            )
            continue
        if comparison.task_state in (TASK_FAILED, "cancelled"):
            continue
        failed_tasks.append({"id": comparison.task_id, "error": reason})
        effects.deltas[row.job_id].failed += 1
        effects.say(row.job_id, f"{task_label(comparison.idx)} failed: {reason}")
    if reopen:
        conn.execute(
            update(result_comparisons)
            .where(result_comparisons.c.id.in_(reopen))
            .values(state=OPEN, attempt_id=None)
        )
    for values in failed_tasks:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == values["id"])
            .values(state=TASK_FAILED, error=values["error"], updated_at=now)
        )
    abandon_tasks(conn, [values["id"] for values in failed_tasks], "the task failed", now)
