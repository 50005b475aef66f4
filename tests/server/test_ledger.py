"""The ledger's invariants under any sequence of movements, on a real SQLite file (and on
PostgreSQL with --db=postgres).

Hypothesis drives grants, transfers, escrows, payouts (one by one and batched) and refunds
with idempotency keys drawn from a small pool (so keys repeat) and amounts that sometimes
exceed the balance.
After every step: the accounts hold exactly what the mint issued, no account is negative,
ledger.check() finds nothing, and every balance equals a simple model's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from server.errors import FailedPrecondition, InvalidArgument
from server.ledger import journal as ledger
from server.store.db import Database
from server.store.schema import accounts, ledger_transactions

USERS = [f"user-{i}" for i in range(3)]
JOBS = [f"job-{i}" for i in range(2)]
keys = st.integers(min_value=0, max_value=12).map(lambda n: f"key-{n}")
amounts = st.integers(min_value=1, max_value=5_000_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, new_database: Callable[[], Database]) -> None:
        super().__init__()
        self.new_database = new_database  # an empty database for each example

    @initialize()
    def open_database(self) -> None:
        self.db = self.new_database()
        self.db.create_schema()
        self.balances: dict[str, int] = {}
        self.used_keys: set[str] = set()
        self.granted = 0

        def open_accounts(conn):
            ids = {u: ledger.user_account_id(conn, u) for u in USERS}
            ids.update({j: ledger.escrow_account_id(conn, j) for j in JOBS})
            return ids

        self.account = self.db.transaction_sync(open_accounts)
        self.balances = dict.fromkeys(self.account, 0)

    def teardown(self) -> None:
        if hasattr(self, "db"):
            self.db.close()

    def _move(self, key: str, reason: str, source: str | None, target: str, amount: int) -> None:
        """Posts source -> target (None = the mint) and updates the model the same way."""

        def post(conn):
            source_id = ledger.mint_account_id(conn) if source is None else self.account[source]
            return ledger.post(
                conn,
                idempotency_key=key,
                reason=reason,
                entries=[(source_id, -amount), (self.account[target], amount)],
            )

        short = source is not None and self.balances[source] < amount
        if key in self.used_keys:
            posted = self.db.transaction_sync(post)
            assert not posted.created  # a repeated key moves nothing, even a short one
            return
        if short:
            with pytest.raises(FailedPrecondition, match="insufficient balance"):
                self.db.transaction_sync(post)
            return
        assert self.db.transaction_sync(post).created
        self.used_keys.add(key)
        if source is None:
            self.granted += amount
        else:
            self.balances[source] -= amount
        self.balances[target] += amount

    @rule(key=keys, user=st.sampled_from(USERS), amount=amounts)
    def grant(self, key, user, amount):
        self._move(key, "grant", None, user, amount)

    @rule(key=keys, sender=st.sampled_from(USERS), recipient=st.sampled_from(USERS), amount=amounts)
    def transfer(self, key, sender, recipient, amount):
        if sender != recipient:
            self._move(key, "transfer", sender, recipient, amount)

    @rule(key=keys, user=st.sampled_from(USERS), job=st.sampled_from(JOBS), amount=amounts)
    def escrow(self, key, user, job, amount):
        self._move(key, "escrow", user, job, amount)

    @rule(key=keys, job=st.sampled_from(JOBS), user=st.sampled_from(USERS), amount=amounts)
    def payout(self, key, job, user, amount):
        self._move(key, "payout", job, user, amount)

    @rule(key=keys, job=st.sampled_from(JOBS), user=st.sampled_from(USERS))
    def refund_everything(self, key, job, user):
        if self.balances[job] > 0:
            self._move(key, "refund", job, user, self.balances[job])

    @rule(
        batch=st.lists(
            st.tuples(keys, st.sampled_from(JOBS), st.sampled_from(USERS), amounts),
            min_size=1,
            max_size=6,
        )
    )
    def payouts_in_one_batch(self, batch):
        """post_many (the payout hot path) behaves as post() in order, all or nothing."""
        balances, used, expect_short = dict(self.balances), set(self.used_keys), False
        for key, job, user, amount in batch:
            if key in used:
                continue
            if balances[job] < amount:
                expect_short = True
                break
            used.add(key)
            balances[job] -= amount
            balances[user] += amount
        movements = [
            ledger.Movement(
                idempotency_key=key,
                reason="payout",
                entries=[(self.account[job], -amount), (self.account[user], amount)],
            )
            for key, job, user, amount in batch
        ]
        if expect_short:
            with pytest.raises(FailedPrecondition, match="insufficient balance"):
                self.db.transaction_sync(ledger.post_many, movements)
            return
        posted = self.db.transaction_sync(ledger.post_many, movements)
        assert sum(p.created for p in posted) == len(used) - len(self.used_keys)
        self.balances, self.used_keys = balances, used

    @rule(user=st.sampled_from(USERS), amount=st.integers(min_value=-5, max_value=0))
    def non_positive_grant_is_refused(self, user, amount):
        with pytest.raises(InvalidArgument):
            self.db.transaction_sync(
                lambda conn: ledger.grant(conn, user, amount, idempotency_key="never-used")
            )

    @invariant()
    def books_balance(self) -> None:
        if not hasattr(self, "db"):
            return

        def read(conn):
            held = conn.execute(
                select(func.coalesce(func.sum(accounts.c.balance_ucpt), 0)).where(
                    accounts.c.name != ledger.MINT_ACCOUNT
                )
            ).scalar()
            lowest = conn.execute(
                select(func.min(accounts.c.balance_ucpt)).where(
                    accounts.c.name != ledger.MINT_ACCOUNT
                )
            ).scalar()
            balances = {name: ledger.balance(conn, aid) for name, aid in self.account.items()}
            txs = conn.execute(select(func.count()).select_from(ledger_transactions)).scalar()
            return held, lowest, balances, ledger.total_granted(conn), ledger.check(conn), txs

        held, lowest, balances, granted, problems, txs = self.db.transaction_sync(read)
        assert problems == []
        assert held == granted == self.granted
        assert lowest >= 0
        assert balances == self.balances
        assert txs == len(self.used_keys)


@pytest.mark.db
def test_ledger_invariants(open_database, tmp_path):
    """The machine above, each example on an empty database of its own (with --db=postgres a
    fresh PostgreSQL database)."""
    examples = itertools.count()

    def new_database() -> Database:
        return open_database(tmp_path / f"example-{next(examples)}")

    run_state_machine_as_test(
        lambda: LedgerMachine(new_database),
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_post_rejects_unbalanced_and_float_entries(tmp_path):
    db = Database.for_data_dir(tmp_path)
    db.create_schema()
    try:

        def attempt(conn, entries):
            a = ledger.user_account_id(conn, "a")
            b = ledger.user_account_id(conn, "b")
            ledger.post(
                conn,
                idempotency_key="k",
                reason="transfer",
                entries=[(a, entries[0]), (b, entries[1])],
            )

        with pytest.raises(InvalidArgument, match="sum to zero"):
            db.transaction_sync(attempt, (-1, 2))
        with pytest.raises(InvalidArgument, match="integer micro-CPT"):
            db.transaction_sync(attempt, (-1.5, 1.5))
        assert db.transaction_sync(ledger.check) == []
        assert db.transaction_sync(ledger.total_granted) == 0
    finally:
        db.close()
