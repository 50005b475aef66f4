"""Trust records of nodes: what their results and leases have shown, and what follows.

A node earns trust with consecutive valid results (results that agreed with a quorum or
passed a spot check); one wrong result resets it. Errors, expired leases and times offline
are counted too. Trust decides:
- how often a node's unreplicated work is spot-checked (always below the threshold, then
  with probability 1/consecutive_valid, as BOINC's adaptive replication does);
- the order in which work is offered to the node (a node still earning trust is offered
  replicated work first, where its results are checked anyway; a trusted node, unreplicated
  work first) and, on probation after a wrong result, how many leases it may hold;
- whether its performance bonus counts (only once its results validate), and, with its
  offline times and expired leases, whether it earns the stability bonus.

Every function takes an open connection (inside the caller's transaction).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from server.config import ServerSettings
from server.jobs.models import ATTEMPT_LIVE_STATES
from server.ledger.rewards import performance_bonus_permille, stability_bonus_permille
from server.store.schema import attempts, node_trust, nodes


@dataclass(frozen=True)
class TrustRecord:
    node_id: str
    consecutive_valid: int = 0
    valid_results: int = 0
    invalid_results: int = 0
    errors: int = 0
    expired_leases: int = 0
    spot_checks_passed: int = 0
    spot_checks_failed: int = 0
    last_invalid_at: float = 0.0
    last_expired_at: float = 0.0
    last_offline_at: float = 0.0

    def trusted(self, threshold: int) -> bool:
        return self.consecutive_valid >= threshold

    @property
    def on_probation(self) -> bool:
        """Its latest checked result was wrong and it has not validated since."""
        return self.invalid_results > 0 and self.consecutive_valid == 0


def load_trust(conn: Connection, node_ids: Iterable[str]) -> dict[str, TrustRecord]:
    """The records of these nodes; a node with none yet gets an all-zero record."""
    ids = sorted(set(node_ids))
    found = {node_id: TrustRecord(node_id) for node_id in ids}
    if ids:
        for row in conn.execute(select(node_trust).where(node_trust.c.node_id.in_(ids))):
            values = {k: v for k, v in row._mapping.items() if k != "updated_at"}
            found[row.node_id] = TrustRecord(**values)
    return found


def _ensure_rows(conn: Connection, node_ids: set[str], now: float) -> None:
    existing = set(
        conn.execute(
            select(node_trust.c.node_id).where(node_trust.c.node_id.in_(sorted(node_ids)))
        ).scalars()
    )
    missing = sorted(node_ids - existing)
    if missing:
        conn.execute(
            insert(node_trust),
            [
                {
                    "node_id": node_id,
                    "consecutive_valid": 0,
                    "valid_results": 0,
                    "invalid_results": 0,
                    "errors": 0,
                    "expired_leases": 0,
                    "spot_checks_passed": 0,
                    "spot_checks_failed": 0,
                    "last_invalid_at": 0.0,
                    "last_expired_at": 0.0,
                    "last_offline_at": 0.0,
                    "updated_at": now,
                }
                for node_id in missing
            ],
        )


def _bump(conn: Connection, counts: Counter[str], now: float, **values: object) -> None:
    """For each node, adds its count to the counter columns named by `values` (given as
    column objects), and sets the plain values."""
    if not counts:
        return
    _ensure_rows(conn, set(counts), now)
    for node_id, count in sorted(counts.items()):
        changes: dict[str, object] = {"updated_at": now}
        for name, value in values.items():
            column = node_trust.c[name]
            changes[name] = column + count if value == "+" else value
        conn.execute(update(node_trust).where(node_trust.c.node_id == node_id).values(**changes))


def record_valid(
    conn: Connection, node_ids: Iterable[str], now: float, spot_checked: Iterable[str] = ()
) -> None:
    """Results that agreed with a quorum; `spot_checked` nodes passed a spot check."""
    _bump(conn, Counter(node_ids), now, consecutive_valid="+", valid_results="+")
    _bump(conn, Counter(spot_checked), now, spot_checks_passed="+")


def record_invalid(
    conn: Connection, node_ids: Iterable[str], now: float, spot_checked: Iterable[str] = ()
) -> None:
    """Results that disagreed with a quorum: trust starts again from zero."""
    _bump(
        conn, Counter(node_ids), now, consecutive_valid=0, invalid_results="+", last_invalid_at=now
    )
    _bump(conn, Counter(spot_checked), now, spot_checks_failed="+")


def record_errors(conn: Connection, node_ids: Iterable[str], now: float) -> None:
    _bump(conn, Counter(node_ids), now, errors="+")


def record_expired(conn: Connection, node_ids: Iterable[str], now: float) -> None:
    _bump(conn, Counter(node_ids), now, expired_leases="+", last_expired_at=now)


def record_offline(conn: Connection, node_ids: Iterable[str], now: float) -> None:
    _bump(conn, Counter(node_ids), now, last_offline_at=now)


# What trust decides ------------------------------------------------------------------------


def spot_check_probability(consecutive_valid: int, threshold: int, floor: float) -> float:
    """1 below the trust threshold, then 1/consecutive_valid (never below `floor`)."""
    if consecutive_valid < max(threshold, 1):
        return 1.0
    return min(1.0, max(1.0 / consecutive_valid, floor))


def checker_available(conn: Connection, owner_id: str, job_owner_id: str = "") -> bool:
    """Whether a node of another owner is online to check this owner's result. With
    `job_owner_id` (a job with a compare command, whose results may differ in bytes) two
    owners besides both are needed: one to check, one to compare (validation/comparisons.py)."""
    excluded = [owner_id, job_owner_id] if job_owner_id else [owner_id]
    found = conn.execute(
        select(nodes.c.owner_id)
        .where(
            nodes.c.online.is_(True),
            nodes.c.banned.is_(False),
            nodes.c.owner_id.not_in(excluded),
        )
        .distinct()
        .limit(2)
    ).all()
    return len(found) >= (2 if job_owner_id else 1)


@dataclass(frozen=True)
class LeasePolicy:
    trusted: bool
    max_new_leases: int | None  # None = no limit beyond what the node asks for


def lease_policy(conn: Connection, node_id: str, settings: ServerSettings) -> LeasePolicy:
    record = load_trust(conn, [node_id])[node_id]
    if not record.on_probation:
        return LeasePolicy(record.trusted(settings.trust_threshold), None)
    live = conn.execute(
        select(func.count())
        .select_from(attempts)
        .where(attempts.c.node_id == node_id, attempts.c.state.in_(ATTEMPT_LIVE_STATES))
    ).scalar()
    return LeasePolicy(False, max(0, settings.probation_max_leases - int(live or 0)))


@dataclass(frozen=True)
class Bonuses:
    performance_permille: int
    stability_permille: int


def node_bonuses(
    conn: Connection, node_ids: Iterable[str], settings: ServerSettings, now: float | None = None
) -> dict[str, Bonuses]:
    """Each node's bonuses for a payout now (see server/ledger/rewards.py)."""
    now = time.time() if now is None else now
    ids = sorted(set(node_ids))
    if not ids:
        return {}
    records = load_trust(conn, ids)
    rows = conn.execute(
        select(nodes.c.id, nodes.c.benchmark_score, nodes.c.created_at).where(nodes.c.id.in_(ids))
    ).all()
    bonuses = {}
    for row in rows:
        record = records[row.id]
        stable_since = max(float(row.created_at), record.last_offline_at, record.last_expired_at)
        bonuses[row.id] = Bonuses(
            performance_bonus_permille(
                float(row.benchmark_score or 0.0),
                settings.reference_benchmark_score,
                validated=record.consecutive_valid > 0,
            ),
            stability_bonus_permille(stable_since, now, settings.stability_window_s),
        )
    return bonuses
