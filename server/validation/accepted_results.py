"""The results of a batch of completions, gathered and written in bulk: every attempt as done
with its result and a result-check row; an unreplicated task's result taken as it is
(unverified), its task done and its node's owner paid from the job's escrow at once.

Results that wait for a quorum or a spot check are only recorded here (outcomes.py decides
which way each result goes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Row

from server.config import ServerSettings
from server.jobs.access import grant_reads, release_result_quota
from server.jobs.models import ATTEMPT_DONE
from server.ledger.payouts import EscrowTracker, PayoutOrder, pay
from server.ledger.rewards import measured_core_ms, reward_for
from server.nodes.trust import Bonuses
from server.validation.attempts import (
    Ack,
    Completion,
    capped_log,
    outcome_values,
    record_attempt_outcomes,
    record_done_tasks,
)
from server.validation.checking import ResultChecks
from server.validation.replicas import UNVERIFIED


@dataclass
class AcceptedResults:
    """What accepting a batch of completions writes, gathered to write it in bulk."""

    settings: ServerSettings
    node_id: str
    node_owner_id: str
    escrow: EscrowTracker
    now: float
    bonuses: Bonuses
    checks: ResultChecks
    attempt_values: list[dict] = field(default_factory=list)
    task_values: list[dict] = field(default_factory=list)
    orders: list[PayoutOrder] = field(default_factory=list)
    result_grants: list[tuple[str, str]] = field(default_factory=list)

    def record(self, row: Row, item: Completion, result_size: int, status: str) -> str:
        """Writes the attempt as done with its result, and the result's check row with
        `status`; returns the capped log."""
        log = capped_log(item.log, self.settings.max_log_bytes)
        self.attempt_values.append(
            outcome_values(
                row.id,
                ATTEMPT_DONE,
                self.now,
                exit_code=item.exit_code,
                error="",
                log=log,
                stats=item.stats,
                result_digest=item.result_digest,
                result_size=result_size,
            )
        )
        self.checks.add(row, self.node_id, self.node_owner_id, item.result_digest, status)
        return log

    def accept(self, row: Row, item: Completion, result_size: int) -> Ack:
        """Takes the result of an unreplicated task as it is (unverified) and pays it."""
        # Paid time is what the node measured, but never more than the job's timeout nor
        # more than the server saw pass since the lease began.
        elapsed = max(0.0, self.now - row.leased_at)
        wall = min(item.stats.wall_seconds or 0.0, elapsed)
        reward = reward_for(
            base_ucpt_per_core_hour=self.settings.base_ucpt_per_core_hour,
            core_ms=measured_core_ms(wall, row.timeout_s, row.cores),
            priority_permille=row.priority_permille,
            performance_bonus_permille=self.bonuses.performance_permille,
            stability_bonus_permille=self.bonuses.stability_permille,
        )
        amount = self.escrow.draw(row.escrow_account_id, reward.amount_ucpt)
        log = self.record(row, item, result_size, UNVERIFIED)
        self.task_values.append(
            {
                "b_id": row.task_id,
                "b_result_digest": item.result_digest,
                "b_result_size": result_size,
                "b_attempt_id": row.id,
                "b_node_id": self.node_id,
                "b_cost": amount,
                "b_log": log,
            }
        )
        self.orders.append(
            PayoutOrder(
                attempt_id=row.id,
                job_id=row.job_id,
                node_id=self.node_id,
                user_id=self.node_owner_id,
                escrow_account_id=row.escrow_account_id,
                reward=reward,
                amount_ucpt=amount,
            )
        )
        if item.result_digest:
            self.result_grants.append((item.result_digest, row.owner_id))
        return Ack(row.id, True, "", amount)

    def write(self, conn: Connection) -> None:
        record_attempt_outcomes(conn, self.attempt_values)
        self.checks.write(conn, self.now)
        record_done_tasks(conn, self.task_values, self.now)
        pay(conn, self.orders, self.now)
        grant_reads(conn, self.result_grants)  # the submitter may download the results
        release_result_quota(conn, [(digest, self.node_id) for digest, _ in self.result_grants])
