"""Trust records of nodes: what their results and leases have shown, and what follows.

A node earns trust with consecutive valid results (results that agreed with a quorum or
passed a spot check); one wrong result resets it. On an open network accounts are cheap, so
only results that cost the node something and were checked by someone it cannot be count
(validation/independence.py decides which): work someone else paid for, agreeing with an
independent, established node. Errors, expired leases and times offline are counted too.

A node is *established* once it is `established_min_age_s` old with
`established_min_valid` such results and its latest checked result was right. Trust decides:
- how often a node's unreplicated work is spot-checked (always until it is established and
  has `trust_threshold` consecutive valid results, then with probability 1/consecutive_valid,
  never below a floor: BOINC's adaptive replication);
- the order in which work is offered to the node (a node still earning trust is offered
  replicated work first, where its results are checked anyway; a trusted node, unreplicated
  work first), whether it may take a replica slot kept for established nodes, and, on
  probation after a wrong result, how many leases it may hold;
- how much a node not yet established may earn in a day (its age caps it);
- whether its performance bonus counts (only once its results validate), and, with its
  offline times and expired leases, whether it earns the stability bonus.

Failures cost the failing node, never the job: its lease quota (BOINC's daily host quota:
leases a day, halved by an error, an expired lease or a wrong result, doubled by an accepted
result) shrinks, and a node whose errors are refuted (a node of another owner then did the
same task right) far more often than its peers' is quarantined for a while, with the reason.

Every function takes an open connection (inside the caller's transaction).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)

from server.config import ServerSettings
from server.jobs.models import ATTEMPT_LIVE_STATES
from server.ledger.rewards import performance_bonus_permille, stability_bonus_permille
from server.store.schema import attempts, node_trust, nodes

DAY_S = 24 * 3600
# Counters of a node's current day: all start again together when the day is over.
DAY_COUNTERS = ("leases_today", "results_today", "errors_today", "refuted_today")
DAY_AMOUNTS = ("earned_today_ucpt",)


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
    lease_quota: int = 0  # 0 = never changed: the initial quota
    day_started_at: float = 0.0
    leases_today: int = 0
    results_today: int = 0
    errors_today: int = 0
    refuted_today: int = 0
    earned_today_ucpt: int = 0
    quarantined_until: float = 0.0
    quarantine_reason: str = ""

    def trusted(self, threshold: int) -> bool:
        return self.consecutive_valid >= threshold

    @property
    def on_probation(self) -> bool:
        """Its latest checked result was wrong and it has not validated since."""
        return self.invalid_results > 0 and self.consecutive_valid == 0

    def today(self, now: float) -> TrustRecord:
        """This record with its day's counters at zero when its day is over."""
        if now - self.day_started_at < DAY_S:
            return self
        fresh = {name: 0 for name in (*DAY_COUNTERS, *DAY_AMOUNTS)}
        return dataclasses.replace(self, day_started_at=now, **fresh)

    def quota(self, settings: ServerSettings) -> int:
        return self.lease_quota or max(1, settings.lease_quota_initial)

    def quarantined(self, now: float) -> bool:
        return self.quarantined_until > now


RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(TrustRecord))
# Built once: the hot path reads trust in every lease and completion.
SELECT_TRUST = select(*(node_trust.c[name] for name in RECORD_FIELDS)).where(
    node_trust.c.node_id.in_(bindparam("b_ids", expanding=True))
)
SELECT_ONE_TRUST = select(*(node_trust.c[name] for name in RECORD_FIELDS)).where(
    node_trust.c.node_id == bindparam("b_id")
)


def _found_records(conn: Connection, ids: list[str]) -> dict[str, TrustRecord]:
    """The records these nodes have (none for a node without a row yet)."""
    if not ids:
        return {}
    if len(ids) == 1:
        rows = conn.execute(SELECT_ONE_TRUST, {"b_id": ids[0]})
    else:
        rows = conn.execute(SELECT_TRUST, {"b_ids": ids})
    return {row[0]: TrustRecord(*row) for row in rows}


def load_trust(conn: Connection, node_ids: Iterable[str]) -> dict[str, TrustRecord]:
    """The records of these nodes; a node with none yet gets an all-zero record."""
    ids = sorted(set(node_ids))
    found = _found_records(conn, ids)
    return {node_id: found.get(node_id) or TrustRecord(node_id) for node_id in ids}


@dataclass(frozen=True)
class NodeStanding:
    """What trust decides with about one node, read at once: its record, and its row's
    creation time, benchmark score and network."""

    record: TrustRecord
    created_at: float
    benchmark_score: float
    network: str


def _standing_query(lock: bool) -> Select:
    query = (
        select(
            nodes.c.id,
            nodes.c.created_at,
            nodes.c.benchmark_score,
            nodes.c.network,
            *(node_trust.c[name] for name in RECORD_FIELDS[1:]),
        )
        .select_from(nodes.outerjoin(node_trust, node_trust.c.node_id == nodes.c.id))
        .where(nodes.c.id.in_(bindparam("b_ids", expanding=True)))
    )
    return query.with_for_update(of=nodes) if lock else query


SELECT_STANDING = _standing_query(lock=False)
SELECT_STANDING_LOCKED = _standing_query(lock=True)


def load_standing(
    conn: Connection, node_ids: Iterable[str], lock: bool = False
) -> dict[str, NodeStanding]:
    """The standing of each of these nodes that exists, in one query; with `lock` their rows
    stay locked until the transaction ends (PostgreSQL)."""
    ids = sorted(set(node_ids))
    if not ids:
        return {}
    query = SELECT_STANDING_LOCKED if lock else SELECT_STANDING
    found = {}
    for row in conn.execute(query, {"b_ids": ids}):
        node_id, created_at, score, network, *values = row
        # No trust row yet: the columns are NULL, the record all zero.
        record = TrustRecord(node_id, *values) if values[0] is not None else TrustRecord(node_id)
        found[node_id] = NodeStanding(record, float(created_at), float(score or 0.0), network)
    return found


def _ensure_rows(
    conn: Connection, node_ids: set[str], now: float, existing: Iterable[str] | None = None
) -> None:
    """Trust rows for these nodes where they have none (`existing`: the ones known to)."""
    if existing is None:
        existing = _found_records(conn, sorted(node_ids))
    missing = sorted(node_ids - set(existing))
    if missing:
        conn.execute(
            insert(node_trust),
            [{"node_id": node_id, "day_started_at": now, "updated_at": now} for node_id in missing],
        )


@functools.lru_cache(maxsize=64)
def _bump_statement(shape: tuple[tuple[str, bool], ...]) -> Update:
    """The UPDATE `_bump` runs for one node, built once per `shape`: (column, counts) pairs,
    a counting column growing by :b_count (a day counter within the node's current day: at
    zero first when its day is over, the day then begun at :b_now), another set to :b_<name>.
    Parameters b_node, b_now, b_day_over (now - DAY_S), b_count and b_<name>."""
    over = node_trust.c.day_started_at <= bindparam("b_day_over")
    day: dict[str, ColumnElement] = {
        name: case((over, 0), else_=node_trust.c[name]) for name in (*DAY_COUNTERS, *DAY_AMOUNTS)
    }
    day["day_started_at"] = case((over, bindparam("b_now")), else_=node_trust.c.day_started_at)
    changes: dict[str, object] = {"updated_at": bindparam("b_now")}
    if any(name in day for name, _ in shape):
        changes.update(day)
    for name, counts in shape:
        base = day[name] if name in day else node_trust.c[name]
        changes[name] = base + bindparam("b_count") if counts else bindparam(f"b_{name}")
    return update(node_trust).where(node_trust.c.node_id == bindparam("b_node")).values(**changes)


def _bump(conn: Connection, counts: Counter[str], now: float, **values: object) -> None:
    """For each node, adds its count to the counter columns given as "+" (day counters count
    in the node's current day), and sets the plain values. A node without a trust row yet
    gets one first (found by the UPDATE changing nothing: no extra query per call)."""
    if not counts:
        return
    statement = _bump_statement(tuple((name, value == "+") for name, value in values.items()))
    fixed = {f"b_{name}": value for name, value in values.items() if value != "+"}
    for node_id, count in sorted(counts.items()):
        params = {"b_node": node_id, "b_now": now, "b_day_over": now - DAY_S, "b_count": count}
        params.update(fixed)
        if conn.execute(statement, params).rowcount == 0:
            _ensure_rows(conn, {node_id}, now)
            conn.execute(statement, params)


def _scale_quotas(
    conn: Connection, node_ids: Iterable[str], settings: ServerSettings, now: float, grow: bool
) -> None:
    """Doubles each node's lease quota once per accepted result (up to the maximum), or
    halves it once per error from at most the initial quota (never below 1)."""
    counts = Counter(node_ids)
    if not counts:
        return
    found = _found_records(conn, sorted(counts))
    _ensure_rows(conn, set(counts), now, existing=found)
    records = {node_id: found.get(node_id) or TrustRecord(node_id) for node_id in counts}
    initial = max(1, settings.lease_quota_initial)
    top = max(initial, settings.lease_quota_max)
    for node_id, count in sorted(counts.items()):
        quota = records[node_id].quota(settings)
        if grow:
            quota = min(top, quota << min(count, 32))
        else:
            quota = max(1, min(quota, initial) >> min(count, 32))
        if quota != records[node_id].lease_quota:
            conn.execute(
                update(node_trust)
                .where(node_trust.c.node_id == node_id)
                .values(lease_quota=quota, updated_at=now)
            )


def record_valid(
    conn: Connection, node_ids: Iterable[str], now: float, spot_checked: Iterable[str] = ()
) -> None:
    """Results that agreed, independently (validation/independence.py): trust grows;
    `spot_checked` nodes passed a spot check."""
    _bump(conn, Counter(node_ids), now, consecutive_valid="+", valid_results="+")
    _bump(conn, Counter(spot_checked), now, spot_checks_passed="+")


def record_accepted(
    conn: Connection, node_ids: Iterable[str], settings: ServerSettings, now: float
) -> None:
    """Results accepted (verified or not): each doubles its node's lease quota."""
    _scale_quotas(conn, node_ids, settings, now, grow=True)


def record_invalid(
    conn: Connection,
    node_ids: Iterable[str],
    now: float,
    spot_checked: Iterable[str] = (),
    settings: ServerSettings | None = None,
) -> None:
    """Results that disagreed with a quorum: trust starts again from zero, and each halves
    its node's lease quota."""
    ids = list(node_ids)
    _bump(conn, Counter(ids), now, consecutive_valid=0, invalid_results="+", last_invalid_at=now)
    _bump(conn, Counter(spot_checked), now, spot_checks_failed="+")
    _scale_quotas(conn, ids, settings or ServerSettings(), now, grow=False)


def record_errors(
    conn: Connection,
    node_ids: Iterable[str],
    now: float,
    settings: ServerSettings | None = None,
) -> None:
    """Attempts the node failed: each halves its lease quota."""
    ids = list(node_ids)
    _bump(conn, Counter(ids), now, errors="+", errors_today="+")
    _scale_quotas(conn, ids, settings or ServerSettings(), now, grow=False)


def record_expired(
    conn: Connection,
    node_ids: Iterable[str],
    now: float,
    settings: ServerSettings | None = None,
) -> None:
    """Leases the node let lapse: each halves its lease quota."""
    ids = list(node_ids)
    _bump(conn, Counter(ids), now, expired_leases="+", errors_today="+", last_expired_at=now)
    _scale_quotas(conn, ids, settings or ServerSettings(), now, grow=False)


def record_offline(conn: Connection, node_ids: Iterable[str], now: float) -> None:
    _bump(conn, Counter(node_ids), now, last_offline_at=now)


def record_leases(conn: Connection, node_id: str, count: int, now: float) -> None:
    if count > 0:
        _bump(conn, Counter({node_id: count}), now, leases_today="+")


def record_results(conn: Connection, node_id: str, count: int, now: float) -> None:
    """Results the node delivered (whatever becomes of them): its day's work."""
    if count > 0:
        _bump(conn, Counter({node_id: count}), now, results_today="+")


# What trust decides ------------------------------------------------------------------------


def spot_check_probability(consecutive_valid: int, threshold: int, floor: float) -> float:
    """1 below the trust threshold, then 1/consecutive_valid (never below `floor`)."""
    if consecutive_valid < max(threshold, 1):
        return 1.0
    return min(1.0, max(1.0 / consecutive_valid, floor))


def is_established(
    record: TrustRecord, created_at: float, settings: ServerSettings, now: float
) -> bool:
    """Old enough, with enough independent valid results, its latest checked result right,
    and not quarantined (the node is not banned: callers check that)."""
    return (
        now - float(created_at) >= settings.established_min_age_s
        and record.valid_results >= settings.established_min_valid
        and record.consecutive_valid > 0
        and not record.quarantined(now)
    )


def established_clause(settings: ServerSettings, now: float) -> ColumnElement[bool]:
    """`is_established` for a query that joins `nodes` and `node_trust`."""
    return established_by(now - settings.established_min_age_s, settings.established_min_valid, now)


def established_by(created_by: object, min_valid: object, now: object) -> ColumnElement[bool]:
    """`established_clause` from its values: made by `created_by`, at least `min_valid`
    valid results, not quarantined at `now` (values, or bind parameters for a statement
    built once)."""
    return and_(
        nodes.c.banned.is_(False),
        nodes.c.created_at <= created_by,
        node_trust.c.valid_results >= min_valid,
        node_trust.c.consecutive_valid > 0,
        node_trust.c.quarantined_until <= now,
    )


def established_nodes(settings: ServerSettings, now: float) -> Select:
    """The ids of the established nodes (a subquery)."""
    return (
        select(nodes.c.id)
        .join(node_trust, node_trust.c.node_id == nodes.c.id)
        .where(established_clause(settings, now))
    )


ANY_ESTABLISHED = (
    select(nodes.c.id)
    .join(node_trust, node_trust.c.node_id == nodes.c.id)
    .where(established_by(bindparam("b_created_by"), bindparam("b_min_valid"), bindparam("b_now")))
    .limit(1)
)


def any_established(conn: Connection, settings: ServerSettings, now: float) -> bool:
    """Whether the network has an established node at all. Until it has one (a new network)
    agreement among independent new nodes is all there is, and counts."""
    params = {
        "b_created_by": now - settings.established_min_age_s,
        "b_min_valid": settings.established_min_valid,
        "b_now": now,
    }
    return conn.execute(ANY_ESTABLISHED, params).first() is not None


def established_among(
    conn: Connection, node_ids: Iterable[str], settings: ServerSettings, now: float
) -> set[str]:
    ids = sorted(set(node_ids))
    if not ids:
        return set()
    query = established_nodes(settings, now).where(nodes.c.id.in_(ids))
    return set(conn.execute(query).scalars())


@dataclass(frozen=True)
class LeasePolicy:
    trusted: bool  # offered unreplicated work first, checked only now and then
    max_new_leases: int | None  # None = no limit beyond what the node asks for
    established: bool = False  # may take replica slots kept for established nodes
    held_back: str = ""  # why the node gets fewer leases than it asked for, or none


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))


def lease_policy(
    conn: Connection,
    node_id: str,
    settings: ServerSettings,
    now: float | None = None,
    created_at: float | None = None,
) -> LeasePolicy:
    """What this node may lease now: none while quarantined, at most what is left of its
    day's quota, at most `probation_max_leases` live ones while on probation."""
    now = time.time() if now is None else now
    record = load_trust(conn, [node_id])[node_id].today(now)
    if record.quarantined(now):
        return LeasePolicy(
            False,
            0,
            held_back=f"quarantined until {_when(record.quarantined_until)}: "
            f"{record.quarantine_reason}",
        )
    if created_at is None:
        found = conn.execute(select(nodes.c.created_at).where(nodes.c.id == node_id)).scalar()
        created_at = float(found if found is not None else now)
    established = is_established(record, created_at, settings, now)
    quota = record.quota(settings)
    limits: list[int] = [max(0, quota - record.leases_today)]
    held_back = ""
    if limits[0] == 0:
        held_back = (
            f"daily lease quota used: {quota} leases since {_when(record.day_started_at)}; "
            "errors and expired leases shrink it, accepted results grow it back"
        )
    if record.on_probation:
        live = conn.execute(
            select(func.count())
            .select_from(attempts)
            .where(attempts.c.node_id == node_id, attempts.c.state.in_(ATTEMPT_LIVE_STATES))
        ).scalar()
        limits.append(max(0, settings.probation_max_leases - int(live or 0)))
    trusted = established and record.trusted(settings.trust_threshold)
    return LeasePolicy(trusted, min(limits), established, held_back)


# Quarantine ----------------------------------------------------------------------------------


def record_refuted(
    conn: Connection, node_ids: Iterable[str], settings: ServerSettings, now: float
) -> list[str]:
    """Errors of these nodes on tasks that a node of another owner then did right (one node
    id per such error): they count against the node. Returns the nodes quarantined now."""
    counts = Counter(node_ids)
    if not counts:
        return []
    _bump(conn, counts, now, refuted_today="+")
    return quarantine_if_far_above_peers(conn, set(counts), settings, now)


def quarantine_if_far_above_peers(
    conn: Connection, node_ids: set[str], settings: ServerSettings, now: float
) -> list[str]:
    """Quarantines each of these nodes whose refuted errors today are at least
    `quarantine_min_errors`, at a rate (of its day's results and errors) of at least
    `quarantine_min_rate` and `quarantine_factor` times that of every other node today."""
    records = {n: r.today(now) for n, r in load_trust(conn, node_ids).items()}
    suspects = {
        node_id: record
        for node_id, record in records.items()
        if not record.quarantined(now)
        and record.refuted_today >= max(1, settings.quarantine_min_errors)
    }
    if not suspects:
        return []
    since = now - DAY_S
    peers = conn.execute(
        select(
            func.coalesce(func.sum(node_trust.c.refuted_today), 0),
            func.coalesce(func.sum(node_trust.c.results_today + node_trust.c.errors_today), 0),
        ).where(node_trust.c.day_started_at > since, node_trust.c.node_id.not_in(sorted(suspects)))
    ).one()
    peer_rate = int(peers[0]) / int(peers[1]) if int(peers[1]) else 0.0
    quarantined = []
    for node_id, record in sorted(suspects.items()):
        work = record.results_today + record.errors_today
        rate = record.refuted_today / work if work else 1.0
        if rate < settings.quarantine_min_rate or rate < settings.quarantine_factor * peer_rate:
            continue
        until = now + settings.quarantine_s
        reason = (
            f"{record.refuted_today} of its {work} tasks today failed or lapsed on this node "
            f"and were then done by nodes of other owners ({rate:.0%}; other nodes: "
            f"{peer_rate:.0%})"
        )
        conn.execute(
            update(node_trust)
            .where(node_trust.c.node_id == node_id)
            .values(quarantined_until=until, quarantine_reason=reason, updated_at=now)
        )
        quarantined.append(node_id)
    return quarantined


# Earnings caps -------------------------------------------------------------------------------


class EarningsCaps:
    """What each node may still be paid today, within one transaction: a node not yet
    established earns at most new_node_daily_earnings_ucpt x (1 + its age in whole days) a
    day, so trust bought with cheap accounts pays little; an established node has no cap.
    `allow` before drawing from the escrow, `write` once at the end."""

    def __init__(
        self,
        conn: Connection,
        settings: ServerSettings,
        now: float,
        standings: dict[str, NodeStanding] | None = None,
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.now = now
        self._standings = dict(standings or {})  # read already by the caller
        self._left: dict[str, int | None] = {}  # None = not capped
        self._paid: Counter[str] = Counter()

    def _load(self, node_id: str) -> int | None:
        standing = self._standings.get(node_id) or load_standing(self.conn, [node_id]).get(node_id)
        if standing is None:
            record, created_at = TrustRecord(node_id), self.now
        else:
            record, created_at = standing.record, standing.created_at
        record = record.today(self.now)
        if is_established(record, created_at, self.settings, self.now):
            return None
        days = int(max(0.0, self.now - created_at) // DAY_S)
        cap = max(0, self.settings.new_node_daily_earnings_ucpt) * (1 + days)
        return max(0, cap - record.earned_today_ucpt)

    def allow(self, node_id: str, amount_ucpt: int) -> int:
        """How much of `amount_ucpt` this node may be paid now (and counts it as paid)."""
        if node_id not in self._left:
            self._left[node_id] = self._load(node_id)
        left = self._left[node_id]
        if left is None:
            return amount_ucpt
        allowed = max(0, min(amount_ucpt, left))
        self._left[node_id] = left - allowed
        self._paid[node_id] += allowed
        return allowed

    def write(self) -> None:
        """Adds what was paid to each capped node's day."""
        for node_id, paid in sorted(self._paid.items()):
            if paid:
                _bump(self.conn, Counter({node_id: paid}), self.now, earned_today_ucpt="+")
        self._paid.clear()


@dataclass(frozen=True)
class Bonuses:
    performance_permille: int
    stability_permille: int


def node_bonuses(
    conn: Connection, node_ids: Iterable[str], settings: ServerSettings, now: float | None = None
) -> dict[str, Bonuses]:
    """Each node's bonuses for a payout now (see server/ledger/rewards.py)."""
    now = time.time() if now is None else now
    return {
        node_id: bonuses_of(standing, settings, now)
        for node_id, standing in load_standing(conn, node_ids).items()
    }


def bonuses_of(standing: NodeStanding, settings: ServerSettings, now: float) -> Bonuses:
    """A node's bonuses for a payout now, from its standing."""
    record = standing.record
    stable_since = max(standing.created_at, record.last_offline_at, record.last_expired_at)
    return Bonuses(
        performance_bonus_permille(
            standing.benchmark_score,
            settings.reference_benchmark_score,
            validated=record.consecutive_valid > 0,
        ),
        stability_bonus_permille(stable_since, now, settings.stability_window_s),
    )
