"""The ledger audit: every transaction balances, cached balances match their entries, and what
was minted is what the accounts hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from server.ledger import journal as ledger
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

    @property
    def ok(self) -> bool:
        return not self.problems and self.total_granted_ucpt == self.total_in_accounts_ucpt


def check_ledger(conn: Connection) -> LedgerReport:
    """ledger.check() plus the global invariant: what was minted is what accounts hold."""
    problems = ledger.check(conn)
    granted = ledger.total_granted(conn)
    held = sum_balances(conn, accounts.c.name != ledger.MINT_ACCOUNT)
    if granted != held:
        problems.append(f"total granted {granted} ucpt != sum of accounts {held} ucpt")
    return LedgerReport(problems, granted, held)
