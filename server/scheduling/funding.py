"""Work paid from starter credit yields to paid work (server/ledger/starter.py says why).

A lease offers a node its candidate jobs paid with CPT first, exactly as if no starter
credit existed; only the room the node has left after them goes to jobs paid from starter
credit. So a starter-funded task never runs where a paid task fits, and accounts opened for
their starter credit get only capacity nobody pays for. A starter-funded task already
running is not stopped when paid work arrives: the next lease goes to the paid work.
"""

from __future__ import annotations

from sqlalchemy import Row


def paid_first(candidates: list[Row]) -> tuple[list[Row], list[Row]]:
    """(jobs paid with CPT, jobs paid from starter credit), each in the given order."""
    paid = [job for job in candidates if not job.starter_funded]
    spare = [job for job in candidates if job.starter_funded]
    return paid, spare
