"""AccountService: the CPT ledger as one user sees it."""

from __future__ import annotations

import logging

from grpc.aio import ServicerContext

from proto.hivemind.v1 import account_pb2, account_pb2_grpc
from server.accounts import recipients
from server.context import ServerContext
from server.ledger import statements
from server.ledger.rewards import MAX_PERFORMANCE_BONUS_PERMILLE, STABILITY_BONUS_PERMILLE
from server.rpc.auth import principal_of, require_user
from server.rpc.converters import (
    decode_page_token,
    encode_page_token,
    page_size,
)
from server.rpc.errors import maps_domain_errors

log = logging.getLogger("hivemind.accounts")


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    @maps_domain_errors
    async def GetBalance(
        self, request: account_pb2.GetBalanceRequest, context: ServicerContext
    ) -> account_pb2.Balance:
        caller = require_user(context)
        view = await self.ctx.db.run(statements.balance_view, caller.user_id)
        return account_pb2.Balance(
            balance_ucpt=view.balance_ucpt,
            escrow_ucpt=view.escrow_ucpt,
            starter_ucpt=view.starter_ucpt,
            starter_escrow_ucpt=view.starter_escrow_ucpt,
        )

    @maps_domain_errors
    async def ListHistory(
        self, request: account_pb2.ListHistoryRequest, context: ServicerContext
    ) -> account_pb2.ListHistoryResponse:
        caller = require_user(context)
        limit = page_size(request.page)
        cursor = decode_page_token(request.page.page_token)
        page = await self.ctx.db.run(statements.history, caller.user_id, cursor, limit)
        return account_pb2.ListHistoryResponse(
            entries=[
                account_pb2.LedgerEntry(
                    tx_id=e.tx_id,
                    reason=e.reason,
                    amount_ucpt=e.amount_ucpt,
                    balance_after_ucpt=e.balance_after_ucpt,
                    counterparty=e.counterparty,
                    memo=e.memo,
                    created_at=int(e.created_at),
                    job_id=e.job_id,
                    attempt_id=e.attempt_id,
                    account=e.account,
                )
                for e in page.entries
            ],
            next_page_token=encode_page_token(page.next_cursor),
        )

    @maps_domain_errors
    async def Transfer(
        self, request: account_pb2.TransferRequest, context: ServicerContext
    ) -> account_pb2.TransferResponse:
        caller = require_user(context)
        moved = await recipients.send_cpt(
            self.ctx,
            caller.user_id,
            request.to_username,
            request.amount_ucpt,
            idempotency_key=request.idempotency_key,
            memo=request.memo,
        )
        if moved.created:
            log.info(
                "transfer user=%s to=%s amount_ucpt=%d tx_id=%s",
                caller.username,
                request.to_username,
                request.amount_ucpt,
                moved.tx_id,
            )
        return account_pb2.TransferResponse(tx_id=moved.tx_id, balance_ucpt=moved.balance_ucpt)

    @maps_domain_errors
    async def GetEarnings(
        self, request: account_pb2.GetEarningsRequest, context: ServicerContext
    ) -> account_pb2.GetEarningsResponse:
        caller = require_user(context)
        view = await self.ctx.db.run(
            statements.earnings, caller.user_id, request.days, None, request.time_zone
        )
        return account_pb2.GetEarningsResponse(
            days=[
                account_pb2.DailyEarnings(day=d.day, amount_ucpt=d.amount_ucpt, payouts=d.payouts)
                for d in view.days
            ],
            payouts=[
                account_pb2.Payout(
                    tx_id=p.tx_id,
                    job_id=p.job_id,
                    attempt_id=p.attempt_id,
                    node_id=p.node_id,
                    core_ms=p.core_ms,
                    base_ucpt=p.base_ucpt,
                    bonus_ucpt=p.bonus_ucpt,
                    amount_ucpt=p.amount_ucpt,
                    created_at=int(p.created_at),
                    performance_bonus_permille=p.performance_bonus_permille,
                    stability_bonus_permille=p.stability_bonus_permille,
                    priority_permille=p.priority_permille,
                    job_name=p.job_name or "",
                    task_index=p.task_index if p.task_index is not None else -1,
                )
                for p in view.payouts
            ],
            today_ucpt=view.today_ucpt,
            week_ucpt=view.week_ucpt,
            month_ucpt=view.month_ucpt,
            time_zone=view.time_zone,
        )

    @maps_domain_errors
    async def GetRates(
        self, request: account_pb2.GetRatesRequest, context: ServicerContext
    ) -> account_pb2.Rates:
        principal_of(context)  # any signed-in caller, user or node
        settings = self.ctx.settings
        return account_pb2.Rates(
            base_ucpt_per_core_hour=settings.base_ucpt_per_core_hour,
            max_performance_bonus_permille=MAX_PERFORMANCE_BONUS_PERMILLE,
            stability_bonus_permille=STABILITY_BONUS_PERMILLE,
            signup_grant_ucpt=settings.signup_grant_ucpt,
        )
