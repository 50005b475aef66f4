"""Deciding one replicated task from its pending results (see verification.py for when and
how `settle` calls this): a quorum of agreeing results accepts the task, a result arriving
after that is judged against the accepted one, too few agreeing results issue more replicas
or ask for comparisons, and results that can never reach a quorum fail the task.

Nothing here touches the database: each decision is gathered in `Decisions` (written in bulk
by verification.py) and told to the nodes and the job's watchers through `Settlement`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Row

from server.jobs.lifecycle import JobDeltas
from server.ledger.payouts import PayoutOrder
from server.validation.comparisons import ASKED, SAME, Group, Grouping, verdict_of
from server.validation.replicas import INCONCLUSIVE, INVALID, VALID


@dataclass
class Settlement:
    """What settling a batch came to, for the caller to pay, grant, announce and ack."""

    deltas: JobDeltas = field(default_factory=JobDeltas)
    orders: list[PayoutOrder] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # attempt id -> what became of it
    messages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    result_grants: list[tuple[str, str]] = field(default_factory=list)  # (digest, job owner)
    accepted_results: list[tuple[str, str]] = field(default_factory=list)  # (digest, node)
    caught: set[str] = field(default_factory=set)  # nodes that failed a spot check


@dataclass
class Decisions:
    """Everything settle decided, written in bulk at the end (verification.py)."""

    statuses: list[dict] = field(default_factory=list)
    valid: list[str] = field(default_factory=list)  # node ids, one per valid result
    invalid: list[str] = field(default_factory=list)
    passed_checks: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    to_pay: list[tuple[Row, Row]] = field(default_factory=list)  # (result, task+job)
    replica_values: dict[str, dict] = field(default_factory=dict)
    done_tasks: list[dict] = field(default_factory=list)
    failed_tasks: list[dict] = field(default_factory=list)
    reopened_tasks: list[str] = field(default_factory=list)
    cancel_tasks: list[str] = field(default_factory=list)
    comparisons: list[tuple[str, str, str, str]] = field(default_factory=list)
    accepted_digests: dict[str, str] = field(default_factory=dict)  # task -> its result

    def compare(self, task: Row, pairs: list[tuple[str, str]]) -> None:
        self.comparisons += [(task.id, task.job_id, a, b) for a, b in pairs]

    def status(self, attempt_id: str, status: str, now: float) -> None:
        self.statuses.append({"b_attempt_id": attempt_id, "b_status": status, "b_now": now})


def judge_late(
    rep: Row,
    task: Row,
    results: list[Row],
    verdicts: dict,
    decided: Decisions,
    outcome: Settlement,
    now: float,
) -> None:
    """Judges results that arrive after the task was accepted against its accepted result."""
    paid = rep.paid
    for result in results:
        verdict = None
        if task.compare_json and result.result_digest != rep.canonical_digest:
            verdict = verdict_of(verdicts, rep.canonical_digest, result.result_digest)
            if verdict in (None, ASKED):
                if verdict is None:
                    decided.compare(task, [(rep.canonical_digest, result.result_digest)])
                outcome.notes[result.attempt_id] = (
                    "result recorded; a node of another owner compares it with the accepted one"
                )
                continue
        if result.result_digest == rep.canonical_digest or verdict == SAME:
            decided.status(result.attempt_id, VALID, now)
            decided.valid.append(result.node_id)
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
                outcome.notes[result.attempt_id] = "agrees with the accepted result"
            else:
                outcome.notes[result.attempt_id] = (
                    f"agrees with the accepted result; the {rep.max_paid} paid results are in"
                )
        else:
            decided.status(result.attempt_id, INVALID, now)
            decided.invalid.append(result.node_id)
            outcome.notes[result.attempt_id] = "disagrees with the accepted result; not paid"
    decided.replica_values[rep.task_id] = {"paid": paid}


def decide(
    rep: Row,
    task: Row,
    results: list[Row],
    grouping: Grouping,
    live: int,
    decided: Decisions,
    outcome: Settlement,
    now: float,
) -> None:
    """Accepts the task on a quorum; otherwise waits, asks for comparisons, issues more
    replicas, or fails the task when no quorum can be reached within `max_results`."""
    group = grouping.best()
    agreeing = group.owners if group else 0
    if group is not None and agreeing >= rep.quorum:
        accept(rep, task, results, group, grouping.unresolved, decided, outcome, now)
        return
    decided.compare(task, grouping.needed)
    if grouping.unresolved:
        for result in results:
            outcome.notes[result.attempt_id] = (
                "result recorded; results differ, a node of another owner compares them"
            )
        if grouping.needed:
            outcome.messages[task.job_id].append(
                f"task {task.idx}: results differ; {len(grouping.needed)} comparison(s) asked"
            )
        return
    if agreeing + live + rep.open_slots >= rep.quorum:
        for result in results:
            outcome.notes[result.attempt_id] = "result recorded; waiting for agreeing results"
        return
    need = rep.quorum - agreeing - live - rep.open_slots
    if len(results) + live + rep.open_slots + need <= rep.max_results:
        decided.replica_values[rep.task_id] = {"open_slots": rep.open_slots + need}
        decided.reopened_tasks.append(rep.task_id)
        for result in results:
            outcome.notes[result.attempt_id] = "results disagree; another node checks"
        outcome.messages[task.job_id].append(
            f"task {task.idx}: results disagree, {need} more replica(s) issued"
        )
        return
    evidence = ", ".join(
        f"{one.representative[:12] or 'no output'} from {one.owners} owner(s)"
        for one in sorted(grouping.groups, key=lambda one: -one.owners)
    )
    error = (
        f"no quorum: {len(results)} results disagree and no {rep.quorum} of them agree ({evidence})"
    )
    for result in results:
        decided.status(result.attempt_id, INCONCLUSIVE, now)
        outcome.notes[result.attempt_id] = "results disagree; the task failed without a quorum"
    decided.failed_tasks.append({"b_id": task.id, "b_error": error})
    decided.cancel_tasks.append(task.id)
    decided.replica_values[rep.task_id] = {"open_slots": 0}
    outcome.deltas[task.job_id].failed += 1
    outcome.messages[task.job_id].append(f"task {task.idx} failed: {error}")


def accept(
    rep: Row,
    task: Row,
    results: list[Row],
    group: Group,
    unresolved: list[Row],
    decided: Decisions,
    outcome: Settlement,
    now: float,
) -> None:
    """The task is done with `group`'s result: its results are valid (and paid up to
    `max_paid`), the others invalid; those `unresolved` wait to be compared with it."""
    digest = group.representative
    agreeing = group.results
    waiting = {result.attempt_id for result in unresolved}
    paid = rep.paid
    for result in results:
        subject = rep.spot_check and result.attempt_id == rep.subject_attempt_id
        if result.attempt_id in waiting:  # judged against the accepted result later
            decided.compare(task, [(digest, result.result_digest)])
            outcome.notes[result.attempt_id] = (
                "result recorded; a node of another owner compares it with the accepted one"
            )
            continue
        if result.result_digest in group.digests:
            decided.status(result.attempt_id, VALID, now)
            decided.valid.append(result.node_id)
            if subject:
                decided.passed_checks.append(result.node_id)
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
            outcome.notes[result.attempt_id] = f"accepted: {len(agreeing)} results agree"
        else:
            decided.status(result.attempt_id, INVALID, now)
            decided.invalid.append(result.node_id)
            if subject:
                decided.failed_checks.append(result.node_id)
                outcome.caught.add(result.node_id)
            outcome.notes[result.attempt_id] = "disagrees with the quorum; not paid"
    first = agreeing[0]
    decided.done_tasks.append(
        {
            "b_id": task.id,
            "b_result_digest": digest,
            "b_result_size": int(first.result_size or 0),
            "b_attempt_id": first.attempt_id,
            "b_node_id": first.node_id,
            "b_log": first.log or "",
        }
    )
    decided.replica_values[rep.task_id] = {"paid": paid, "canonical_digest": digest}
    if task.compare_json:
        decided.accepted_digests[task.id] = digest
    if digest:
        outcome.result_grants.append((digest, task.owner_id))
        outcome.accepted_results += [(digest, r.node_id) for r in agreeing]
    outcome.deltas[task.job_id].done += 1
    how = "passed its spot check" if rep.spot_check else f"{len(agreeing)} results agree"
    outcome.messages[task.job_id].append(f"task {task.idx} done: {how}")
