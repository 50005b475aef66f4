"""Who counts as independent of whom, on a network where accounts are cheap.

Two results are independent when their nodes have different owners *and* different
networks (server/nodes/networks.py; networks are not compared when `distinct_networks` is
off). A quorum counts the largest set of pairwise independent results in a group, so two
accounts on one machine, or two machines of one owner, are one vote.

Once the network has an established node (server/nodes/trust.py), a group is accepted only
with an established node's result in it, and with more independent established results than
any group it disagrees with: new nodes can never outvote an established one; more replicas
on established nodes settle it. Until then (a new network) independent new nodes are all
there is.

A valid result earns its node trust only when someone else paid for it (the job's submitter
is another owner on another network, and the result was paid) and an independent node that
is established (or, on a new network, any independent node) agreed with it.

`Independence` holds what one settling transaction needs to know; `may_take_open_slot` and
`checker_online` say whether any online node could still give a task what it waits for.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Select, bindparam, exists, func, select

from server.config import ServerSettings
from server.jobs.models import ATTEMPT_DONE, ATTEMPT_FAILED, ATTEMPT_LIVE_STATES
from server.nodes import trust
from server.store.schema import attempts, node_trust, nodes

HOLDING_STATES = (*ATTEMPT_LIVE_STATES, ATTEMPT_DONE)


class Voter(Protocol):
    """A delivered result as a quorum counts it (a result_checks row will do)."""

    node_id: str
    owner_id: str
    network: str


def independent_count(voters: Sequence[Voter], distinct_networks: bool) -> int:
    """The most results no two of which share an owner or (with `distinct_networks`) a
    network: a maximum matching of owners to networks (Kuhn's augmenting paths; a task has
    a handful of results)."""
    if not distinct_networks:
        return len({voter.owner_id for voter in voters})
    edges: dict[str, set[str]] = {}
    for voter in voters:
        edges.setdefault(voter.owner_id, set()).add(voter.network)
    matched: dict[str, str] = {}  # network -> owner

    def augment(owner: str, seen: set[str]) -> bool:
        for network in sorted(edges[owner]):
            if network in seen:
                continue
            seen.add(network)
            if network not in matched or augment(matched[network], seen):
                matched[network] = owner
                return True
        return False

    return sum(1 for owner in sorted(edges) if augment(owner, set()))


@dataclass(frozen=True)
class Independence:
    """The rules above for one settling transaction."""

    distinct_networks: bool
    established: frozenset[str]  # node ids established now (among the results looked at)
    required: bool  # the network has an established node: quorums need one

    @classmethod
    def load(
        cls,
        conn: Connection,
        node_ids: Iterable[str],
        settings: ServerSettings,
        now: float,
    ) -> Independence:
        established = trust.established_among(conn, node_ids, settings, now)
        required = bool(established) or trust.any_established(conn, settings, now)
        return cls(settings.distinct_networks, frozenset(established), required)

    def independent(self, voters: Sequence[Voter]) -> int:
        return independent_count(voters, self.distinct_networks)

    def established_votes(self, voters: Sequence[Voter]) -> int:
        return self.independent([v for v in voters if v.node_id in self.established])

    def apart(self, one: Voter, other: Voter) -> bool:
        """Different owners and (when networks count) different networks."""
        if one.owner_id == other.owner_id:
            return False
        return not self.distinct_networks or one.network != other.network

    def shares_origin(self, voter: Voter, job_owner_id: str, job_network: str) -> bool:
        """The result's node belongs to the job's submitter or sits on its network."""
        if voter.owner_id == job_owner_id:
            return True
        return self.distinct_networks and bool(job_network) and voter.network == job_network

    def corroborated(self, voter: Voter, group: Sequence[Voter]) -> bool:
        """An independent node in the group agreed: an established one, or any on a network
        that has none established yet."""
        return any(
            self.apart(voter, other) and (other.node_id in self.established or not self.required)
            for other in group
        )


def _online_nodes(settings: ServerSettings, now: float, established_only: bool) -> Select:
    query = (
        select(nodes.c.id)
        .select_from(nodes.outerjoin(node_trust, node_trust.c.node_id == nodes.c.id))
        .where(
            nodes.c.online.is_(True),
            nodes.c.banned.is_(False),
            func.coalesce(node_trust.c.quarantined_until, 0.0) <= now,
        )
    )
    if established_only:
        query = query.where(trust.established_clause(settings, now))
    return query


def may_take_open_slot(
    conn: Connection,
    task_id: str,
    settings: ServerSettings,
    now: float,
    established_only: bool = False,
) -> bool:
    """Whether an online node could lease this task now, as the scheduler would hand it out:
    of no owner and (when networks count) on no network that holds or answered it, one that
    has not failed it, established if the slot is kept for established nodes. (Resources and
    runtimes are not compared: a node that is online but too small keeps the task waiting.)"""
    holders = (
        select(nodes.c.owner_id, nodes.c.network)
        .join(attempts, attempts.c.node_id == nodes.c.id)
        .where(attempts.c.task_id == task_id, attempts.c.state.in_(HOLDING_STATES))
    ).subquery()
    query = _online_nodes(settings, now, established_only).where(
        nodes.c.owner_id.not_in(select(holders.c.owner_id)),
        ~exists().where(
            attempts.c.task_id == task_id,
            attempts.c.node_id == nodes.c.id,
            attempts.c.state == ATTEMPT_FAILED,
            attempts.c.comparison_id.is_(None),
        ),
    )
    if settings.distinct_networks:
        query = query.where(nodes.c.network.not_in(select(holders.c.network)))
    return conn.execute(query.limit(1)).first() is not None


def checker_online(
    conn: Connection,
    excluded_owners: Iterable[str],
    excluded_networks: Iterable[str],
    settings: ServerSettings,
    now: float,
    needed: int = 1,
    established_only: bool = False,
) -> bool:
    """Whether `needed` online nodes of other owners than these, on other networks than
    these (when networks count), and of different owners and networks from each other, could
    check a result now."""
    networks = sorted(set(excluded_networks)) if settings.distinct_networks else []
    params: dict[str, object] = {"b_now": now, "b_owners": sorted(set(excluded_owners))}
    if networks:
        params["b_networks"] = networks
    if established_only:
        params |= {
            "b_created_by": now - settings.established_min_age_s,
            "b_min_valid": settings.established_min_valid,
        }
    found = conn.execute(_checkers_query(established_only, bool(networks)), params).all()
    return independent_count(found, settings.distinct_networks) >= needed


@functools.cache
def _checkers_query(established_only: bool, by_network: bool) -> Select:
    """checker_online's query, built once per shape: online nodes (established ones, made
    by :b_created_by with :b_min_valid results) of no owner in :b_owners (nor network in
    :b_networks), not quarantined at :b_now."""
    query = (
        select(nodes.c.id, nodes.c.owner_id, nodes.c.network)
        .select_from(nodes.outerjoin(node_trust, node_trust.c.node_id == nodes.c.id))
        .where(
            nodes.c.online.is_(True),
            nodes.c.banned.is_(False),
            func.coalesce(node_trust.c.quarantined_until, 0.0) <= bindparam("b_now"),
            nodes.c.owner_id.not_in(bindparam("b_owners", expanding=True)),
        )
    )
    if established_only:
        query = query.where(
            trust.established_by(
                bindparam("b_created_by"), bindparam("b_min_valid"), bindparam("b_now")
            )
        )
    if by_network:
        query = query.where(nodes.c.network.not_in(bindparam("b_networks", expanding=True)))
    return query.limit(64)
