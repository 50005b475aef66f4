"""The ledger audit: every transaction balances, cached balances match their entries, what was
minted is what the accounts hold (starter credit included), and starter credit never moved
anywhere but to its owner's own jobs and back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from server.ledger import journal as ledger
from server.ledger.starter import check_starter_credit
from server.store.schema import accounts


def sum_balances(conn: Connection, *where: Any) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(accounts.c.balance_ucpt), 0)).where(*where)
    ).scalar()
    return int(total or 0)


@dataclass(frozen=True)
class LedgerReport:
    problems: list[str]
    total_granted_ucpt: int
    total_in_accounts_ucpt: int
    total_starter_ucpt: int = 0  # of total_in_accounts_ucpt, held as starter credit

    @property
    def ok(self) -> bool:
        return not self.problems and self.total_granted_ucpt == self.total_in_accounts_ucpt


def check_ledger(conn: Connection) -> LedgerReport:
    """ledger.check() plus the global invariants: what was minted is what accounts hold, and
    starter credit moved only as server/ledger/starter.py allows."""
    problems = ledger.check(conn)
    granted = ledger.total_granted(conn)
    held = sum_balances(conn, accounts.c.name != ledger.MINT_ACCOUNT)
    if granted != held:
        problems.append(f"total granted {granted} ucpt != sum of accounts {held} ucpt")
    problems.extend(check_starter_credit(conn))
    return LedgerReport(problems, granted, held, sum_balances(conn, accounts.c.kind == "starter"))
