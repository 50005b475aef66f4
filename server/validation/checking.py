"""The verification steps of completing attempts (see outcomes.py): which tasks need more
than one result, result check rows, spot checks, and settling a batch's replicated tasks
(quorum, payment of agreeing results, and distrust of nodes caught by a spot check)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, Row, insert, select

from server.config import ServerSettings
from server.errors import InvalidArgument
from server.jobs.access import grant_reads, release_result_quota
from server.jobs.artifacts import check_digest
from server.jobs.lifecycle import JobDeltas
from server.jobs.models import TASK_DONE, TASK_IN_FLIGHT_STATES, TASK_PENDING
from server.ledger.payouts import EscrowTracker, pay
from server.nodes import trust
from server.store.schema import artifact_owners, artifacts, result_checks
from server.validation.attempts import Ack, Completion
from server.validation.quorum import Settlement
from server.validation.replicas import load_replicas, open_spot_check
from server.validation.reruns import can_fund_one_more, distrust_node_results, funding_view
from server.validation.verification import settle

# A replicated task takes results while replicas are out, and after it was decided (a late
# replica is judged against the accepted result).
REPLICA_OPEN_STATES = (TASK_PENDING, *TASK_IN_FLIGHT_STATES, TASK_DONE)
SPOT_CHECK_NOTE = "result recorded; a node of another owner checks it before it is paid"
NO_BONUSES = trust.Bonuses(0, 0)


def replicated_tasks(conn: Connection, rows: Iterable[Row]) -> set[str]:
    """Tasks among these attempts' that need more than one result."""
    rows = list(rows)
    with_row = set(load_replicas(conn, [row.task_id for row in rows]))
    return {row.task_id for row in rows if row.task_id in with_row or row.replicas > 1}


def uploaded_results(conn: Connection, node_id: str, digests: set[str]) -> dict[str, int]:
    if not digests:
        return {}
    return dict(
        conn.execute(
            select(artifacts.c.digest, artifacts.c.size)
            .join(artifact_owners, artifact_owners.c.digest == artifacts.c.digest)
            .where(
                artifact_owners.c.principal_id == node_id,
                artifacts.c.digest.in_(sorted(digests)),
            )
        ).all()
    )


def canonical(item: Completion) -> Completion:
    digest = item.result_digest.strip().lower()
    return replace(item, result_digest=digest) if digest != item.result_digest else item


def result_refusal(item: Completion, uploaded: dict[str, int]) -> str | None:
    if not item.result_digest:
        return None
    try:
        check_digest(item.result_digest)
    except InvalidArgument as error:
        return str(error)
    if item.result_digest not in uploaded:
        return f"result {item.result_digest} was not uploaded by this node; upload it first"
    size = uploaded[item.result_digest]
    if item.result_size and item.result_size != size:
        return f"result size {item.result_size} does not match the upload ({size} bytes)"
    return None


@dataclass
class ResultChecks:
    """Result check rows to insert: one per delivered result."""

    rows: list[dict] = field(default_factory=list)

    def add(self, attempt: Row, node_id: str, owner_id: str, digest: str, status: str) -> None:
        self.rows.append(
            {
                "attempt_id": attempt.id,
                "task_id": attempt.task_id,
                "job_id": attempt.job_id,
                "node_id": node_id,
                "owner_id": owner_id,
                "result_digest": digest,
                "status": status,
            }
        )

    def write(self, conn: Connection, now: float) -> None:
        if self.rows:
            decided = {"pending": None}
            conn.execute(
                insert(result_checks),
                [
                    {**row, "created_at": now, "decided_at": decided.get(row["status"], now)}
                    for row in self.rows
                ],
            )


class SpotChecks:
    """Decides, per completed unreplicated attempt of one node, whether to check it."""

    def __init__(
        self,
        conn: Connection,
        node_id: str,
        node_owner_id: str,
        escrow: EscrowTracker,
        settings: ServerSettings,
        rng: object,
    ) -> None:
        self.conn = conn
        self.node_owner_id = node_owner_id
        self.escrow = escrow
        self.settings = settings
        self.rng = rng or trust.spot_check_rng({})
        self.record = trust.load_trust(conn, [node_id])[node_id]
        self._opened: list[Row] = []
        self._checker: bool | None = None

    def wanted(self, attempt: Row, deltas: JobDeltas) -> bool:
        """Whether this unreplicated result is checked (see reruns.py for the rules)."""
        if attempt.replicas > 1 or attempt.owner_id == self.node_owner_id:
            return False  # replicated anyway, or the submitter's own machine
        chance = trust.spot_check_probability(
            self.record.consecutive_valid,
            self.settings.trust_threshold,
            self.settings.spot_check_min_probability,
        )
        if chance < 1.0 and self.rng.random() >= chance:  # type: ignore[attr-defined]
            return False
        if attempt.compare_json:
            if not trust.checker_available(self.conn, self.node_owner_id, attempt.owner_id):
                return False
        else:
            if self._checker is None:
                self._checker = trust.checker_available(self.conn, self.node_owner_id)
            if not self._checker:
                return False
        # Checks opened earlier in this batch already hold a share of the escrow.
        held = JobDeltas()
        for job_id, delta in deltas.items():
            held[job_id] = replace(delta)
        held[attempt.job_id].done -= sum(1 for a in self._opened if a.job_id == attempt.job_id)
        job = funding_view(self.conn, attempt.job_id)
        return can_fund_one_more(self.conn, job, self.escrow, self.settings, held)

    def open(self, attempt: Row) -> None:
        self._opened.append(attempt)

    def write(self, conn: Connection, now: float) -> None:
        for attempt in self._opened:
            open_spot_check(conn, attempt.task_id, attempt.job_id, attempt.id, self.settings, now)


@dataclass
class Settled:
    notes: dict[str, str] = field(default_factory=dict)
    payouts: dict[str, int] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def ack(self, ack: Ack) -> Ack:
        if ack.attempt_id not in self.notes:
            return ack
        return Ack(
            ack.attempt_id,
            ack.accepted,
            self.notes[ack.attempt_id],
            self.payouts.get(ack.attempt_id, 0),
        )


def settle_and_distrust(
    conn: Connection,
    task_ids: set[str],
    escrow: EscrowTracker,
    settings: ServerSettings,
    now: float | None,
    deltas: JobDeltas,
) -> Settled:
    """Settles these tasks, pays what they accepted, re-runs the unverified work of nodes
    a spot check caught, and adds every job change to `deltas`."""
    now = time.time() if now is None else now
    settled = Settled()
    if not task_ids:
        return settled
    settlement = settle(conn, task_ids, escrow, settings, now)
    settlements = [settlement]
    if settlement.caught:
        reruns = distrust_node_results(
            conn,
            settlement.caught,
            "its node failed a spot check",
            escrow,
            settings,
            now,
            _merged(deltas, settlement.deltas),
        )
        add_deltas(deltas, reruns.deltas)
        for job_id, lines in reruns.messages.items():
            settled.messages[job_id].extend(lines)
        if reruns.settlement is not None:
            settlements.append(reruns.settlement)
    for one in settlements:
        apply_settlement(conn, one, deltas, now)
        settled.notes.update(one.notes)
        for order in one.orders:
            settled.payouts[order.attempt_id] = order.amount_ucpt
        for job_id, lines in one.messages.items():
            settled.messages[job_id].extend(lines)
    return settled


def apply_settlement(
    conn: Connection, settlement: Settlement, deltas: JobDeltas, now: float
) -> None:
    """Pays a settlement's orders, lets submitters read accepted results, frees the quota of
    the nodes whose results were accepted, and adds its job changes to `deltas`."""
    pay(conn, settlement.orders, now)
    grant_reads(conn, settlement.result_grants)
    release_result_quota(conn, settlement.accepted_results)
    add_deltas(deltas, settlement.deltas)


def add_deltas(into: JobDeltas, other: JobDeltas) -> None:
    for job_id, delta in other.items():
        target = into[job_id]
        target.done += delta.done
        target.failed += delta.failed
        target.cancelled += delta.cancelled
        target.cost_ucpt += delta.cost_ucpt


def _merged(first: JobDeltas, second: JobDeltas) -> JobDeltas:
    merged = JobDeltas()
    add_deltas(merged, first)
    add_deltas(merged, second)
    return merged
