"""What one transaction did to its jobs: their counters, lines for their watchers, their end.

A transaction that decides attempts (completing or failing them, expiring leases, banning a
node) creates one `Effects` and hands it to every step. A step counts the tasks it ended and
what it paid or took back (`deltas`), says what happened (`say`), or marks a job as changed
without a line (`touch`). `apply` writes the counters gathered so far to their jobs and ends
the jobs whose tasks have all ended, refunding their escrow; it runs inside the transaction,
at the end of each step that may end a job, so the next step reads the jobs as they now are.
After the commit, `announce` tells each job's watchers, once.

A transaction function may run more than once (PostgreSQL runs again one that lost a
conflict), so its Effects is created inside it and returned, never kept across tries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection

from server.jobs.events import JobEvents
from server.jobs.lifecycle import JobDeltas, apply_deltas, settle_ended_jobs


@dataclass
class Effects:
    deltas: JobDeltas = field(default_factory=JobDeltas)  # not yet written to the jobs
    messages: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    touched: set[str] = field(default_factory=set)  # watchers told even without a line
    ended: list[str] = field(default_factory=list)  # jobs this transaction ended

    def say(self, job_id: str, line: str) -> None:
        self.messages[job_id].append(line)

    def touch(self, job_id: str) -> None:
        self.touched.add(job_id)

    def apply(self, conn: Connection, now: float) -> None:
        """Adds the counters gathered since the last call to their jobs and ends (and
        refunds) the jobs among them whose tasks have all ended."""
        if not self.deltas:
            return
        self.ended += settle_ended_jobs(conn, apply_deltas(conn, self.deltas, now), now)
        self.deltas = JobDeltas()

    def announce(self, events: JobEvents) -> None:
        """After the commit: each job's lines (a job touched without one hears of a change
        all the same), then `job ended` for each job that ended."""
        for job_id, lines in self.messages.items():
            for line in lines or [""]:
                events.notify(job_id, line)
        for job_id in sorted(self.touched - set(self.messages)):
            events.notify(job_id)
        for job_id in self.ended:
            events.notify(job_id, "job ended")
