"""A result that must be checked is leased only when its check can be paid for.

A node not yet established has every unreplicated result it delivers spot-checked
(validation/spot_checks.py), and a check is paid from the job's escrow. A job escrowed at
exactly its worst case (what `job submit` holds) has nothing to pay a check with until some
of its tasks have finished for less than their worst case; a result delivered before then
would be taken unverified. So, while an established node that could run the task instead is
online (another owner, another network), a node not yet established is leased tasks of
another owner's unreplicated job only as far as the job can still fund a check for each:
on top of the worst case of everything the job may still pay, a check for every first result
in flight (whoever holds it: a checked established node draws on the same money) and one for
each task this lease gives. The first tasks of such a job go to established nodes; as they
finish, the slack they leave lets new nodes in, and their results are checked.

A node of the job's owner is not checked on its own jobs, so it is not held back here. When
no established node that could take the task is online (a new network, or a quiet hour),
nothing is held back: waiting would end only when one comes, and the spot check then takes
the result unverified if no checker is online, as it always has (way_out.py). Nor is a job
that established nodes are online for but have not taken a task of within `wait_for_nodes_s`
of its submission (it needs what none of them offers: more memory, a GPU): a job must not
wait for ever for nodes that cannot run it.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, exists, func, select

from server.config import ServerSettings
from server.jobs.models import ATTEMPT_LIVE_STATES
from server.ledger.payouts import EscrowTracker
from server.nodes.trust import LeasePolicy
from server.scheduling.lease_trust import LeasingNode
from server.store.schema import attempts, task_replicas
from server.validation.independence import checker_online
from server.validation.spot_checks import funding_view, results_beyond_worst_case


class CheckFunding:
    """For one lease: how many tasks of a job the leasing node may take, as far as the job
    can fund their checks (looked up only for the jobs the lease reaches, once each)."""

    def __init__(
        self,
        conn: Connection,
        node: LeasingNode,
        policy: LeasePolicy,
        settings: ServerSettings,
        now: float,
    ) -> None:
        self.conn = conn
        self.node = node
        self.settings = settings
        self.now = now
        self._checked = not policy.established  # an established node's leases: never held
        self._instead: bool | None = None  # an established node that could take them is online
        self._caps: dict[str, int] = {}
        self.held = False  # a job was kept from the node (its checks cannot be funded yet)

    def cap(self, job: Row) -> int | None:
        """How many of `job`'s tasks this lease may give the node (0: none now), or None
        when its results on that job need no check or nobody else could take the tasks."""
        if not self._checked or job.replicas != 1 or job.owner_id == self.node.owner_id:
            return None
        if self._instead is None:
            node, settings = self.node, self.settings
            self._instead = checker_online(
                self.conn, [node.owner_id], [node.network], settings, self.now, 1, True
            )
        if not self._instead:
            return None
        if job.id not in self._caps:
            view = funding_view(self.conn, job.id)
            if view.tasks_done == 0 and self.now - job.created_at > self.settings.wait_for_nodes_s:
                return None  # no established node took any of it: they cannot, it seems
            escrow = EscrowTracker(self.conn, ())  # read, not locked: leasing draws nothing
            spare = results_beyond_worst_case(self.conn, view, escrow, self.settings)
            self._caps[job.id] = max(0, spare - _first_results_in_flight(self.conn, job.id))
        self.held = self.held or self._caps[job.id] == 0
        return self._caps[job.id]


def _first_results_in_flight(conn: Connection, job_id: str) -> int:
    """Leases of the job's tasks that no check is open for yet: each may still need one."""
    check_open = exists().where(
        task_replicas.c.task_id == attempts.c.task_id, task_replicas.c.spot_check.is_(True)
    )
    count = conn.execute(
        select(func.count()).where(
            attempts.c.job_id == job_id,
            attempts.c.state.in_(ATTEMPT_LIVE_STATES),
            attempts.c.comparison_id.is_(None),
            ~check_open,
        )
    ).scalar()
    return int(count or 0)
