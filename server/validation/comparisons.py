"""Comparing results whose digests differ, for jobs that name a compare command.

Some outputs differ and are still right (floating point, random sampling). Such a job names
a compare command. Results of a task fall into groups: equal digests are one group at once;
a result with a new digest is compared with each group's first result (its representative),
in order, until one says "same" (it joins that group) or all say "different" (it starts a
group). Each comparison is leased, like a task, to a node of a third owner: not the job's
owner, and no owner that holds or delivered a result of the task (it would judge its own
result). The node runs the command in the job's runtime with both results unpacked at
/results/a and /results/b; exit 0 = same, 1 = different. The quorum is then counted over
groups (verification.py). A comparison that fails or expires is leased again; after the
job's max attempts the task fails with the last error.

A comparison is paid like a task for the time it measured, capped by the job's compare
timeout; the job's worst case includes every comparison its tasks may need (job_spec.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, insert, select, update

from server.ids import new_id
from server.store.schema import result_comparisons

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
    """Per task: (digest_a, digest_b) -> SAME, DIFFERENT or ASKED."""
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
            result_comparisons.c.state.in_((OPEN, LEASED, DECIDED)),
        )
    )
    for row in rows:
        found[row.task_id][(row.digest_a, row.digest_b)] = (
            row.verdict if row.state == DECIDED else ASKED
        )
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
