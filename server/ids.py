"""Ids: a short prefix that says what the thing is, the time it was made (milliseconds, 11 hex
digits), then 16 random hex digits.

The time first keeps ids of rows made together next to each other in every index keyed by
them, so inserting a batch of attempts, payouts or ledger entries touches the end of each
index rather than a random page of it (SQLite writes every page a transaction touched to its
log at commit; PostgreSQL has fewer pages to dirty and to keep in its cache). The random part
keeps ids unguessable: an id is never an access right (callers are checked), but nobody should
enumerate them either.
"""

import secrets
import time


def new_id(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() // 1_000_000:011x}{secrets.token_hex(8)}"
