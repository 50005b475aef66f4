from proto.hivemind.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetBalanceRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Balance(_message.Message):
    __slots__ = ("balance_ucpt", "escrow_ucpt", "starter_ucpt", "starter_escrow_ucpt")
    BALANCE_UCPT_FIELD_NUMBER: _ClassVar[int]
    ESCROW_UCPT_FIELD_NUMBER: _ClassVar[int]
    STARTER_UCPT_FIELD_NUMBER: _ClassVar[int]
    STARTER_ESCROW_UCPT_FIELD_NUMBER: _ClassVar[int]
    balance_ucpt: int
    escrow_ucpt: int
    starter_ucpt: int
    starter_escrow_ucpt: int
    def __init__(self, balance_ucpt: _Optional[int] = ..., escrow_ucpt: _Optional[int] = ..., starter_ucpt: _Optional[int] = ..., starter_escrow_ucpt: _Optional[int] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("tx_id", "reason", "amount_ucpt", "balance_after_ucpt", "counterparty", "memo", "created_at", "job_id", "attempt_id", "account")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_UCPT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_UCPT_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    tx_id: str
    reason: str
    amount_ucpt: int
    balance_after_ucpt: int
    counterparty: str
    memo: str
    created_at: int
    job_id: str
    attempt_id: str
    account: str
    def __init__(self, tx_id: _Optional[str] = ..., reason: _Optional[str] = ..., amount_ucpt: _Optional[int] = ..., balance_after_ucpt: _Optional[int] = ..., counterparty: _Optional[str] = ..., memo: _Optional[str] = ..., created_at: _Optional[int] = ..., job_id: _Optional[str] = ..., attempt_id: _Optional[str] = ..., account: _Optional[str] = ...) -> None: ...

class ListHistoryRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListHistoryResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("to_username", "amount_ucpt", "idempotency_key", "memo")
    TO_USERNAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_UCPT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    to_username: str
    amount_ucpt: int
    idempotency_key: str
    memo: str
    def __init__(self, to_username: _Optional[str] = ..., amount_ucpt: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., memo: _Optional[str] = ...) -> None: ...

class TransferResponse(_message.Message):
    __slots__ = ("tx_id", "balance_ucpt")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_UCPT_FIELD_NUMBER: _ClassVar[int]
    tx_id: str
    balance_ucpt: int
    def __init__(self, tx_id: _Optional[str] = ..., balance_ucpt: _Optional[int] = ...) -> None: ...

class GetEarningsRequest(_message.Message):
    __slots__ = ("days", "time_zone")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    days: int
    time_zone: str
    def __init__(self, days: _Optional[int] = ..., time_zone: _Optional[str] = ...) -> None: ...

class DailyEarnings(_message.Message):
    __slots__ = ("day", "amount_ucpt", "payouts")
    DAY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_UCPT_FIELD_NUMBER: _ClassVar[int]
    PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    day: str
    amount_ucpt: int
    payouts: int
    def __init__(self, day: _Optional[str] = ..., amount_ucpt: _Optional[int] = ..., payouts: _Optional[int] = ...) -> None: ...

class Payout(_message.Message):
    __slots__ = ("tx_id", "job_id", "attempt_id", "node_id", "core_ms", "base_ucpt", "bonus_ucpt", "amount_ucpt", "created_at", "performance_bonus_permille", "stability_bonus_permille", "priority_permille", "job_name", "task_index")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CORE_MS_FIELD_NUMBER: _ClassVar[int]
    BASE_UCPT_FIELD_NUMBER: _ClassVar[int]
    BONUS_UCPT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_UCPT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PERFORMANCE_BONUS_PERMILLE_FIELD_NUMBER: _ClassVar[int]
    STABILITY_BONUS_PERMILLE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_PERMILLE_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_INDEX_FIELD_NUMBER: _ClassVar[int]
    tx_id: str
    job_id: str
    attempt_id: str
    node_id: str
    core_ms: int
    base_ucpt: int
    bonus_ucpt: int
    amount_ucpt: int
    created_at: int
    performance_bonus_permille: int
    stability_bonus_permille: int
    priority_permille: int
    job_name: str
    task_index: int
    def __init__(self, tx_id: _Optional[str] = ..., job_id: _Optional[str] = ..., attempt_id: _Optional[str] = ..., node_id: _Optional[str] = ..., core_ms: _Optional[int] = ..., base_ucpt: _Optional[int] = ..., bonus_ucpt: _Optional[int] = ..., amount_ucpt: _Optional[int] = ..., created_at: _Optional[int] = ..., performance_bonus_permille: _Optional[int] = ..., stability_bonus_permille: _Optional[int] = ..., priority_permille: _Optional[int] = ..., job_name: _Optional[str] = ..., task_index: _Optional[int] = ...) -> None: ...

class GetEarningsResponse(_message.Message):
    __slots__ = ("days", "payouts", "today_ucpt", "week_ucpt", "month_ucpt", "time_zone")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    TODAY_UCPT_FIELD_NUMBER: _ClassVar[int]
    WEEK_UCPT_FIELD_NUMBER: _ClassVar[int]
    MONTH_UCPT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedCompositeFieldContainer[DailyEarnings]
    payouts: _containers.RepeatedCompositeFieldContainer[Payout]
    today_ucpt: int
    week_ucpt: int
    month_ucpt: int
    time_zone: str
    def __init__(self, days: _Optional[_Iterable[_Union[DailyEarnings, _Mapping]]] = ..., payouts: _Optional[_Iterable[_Union[Payout, _Mapping]]] = ..., today_ucpt: _Optional[int] = ..., week_ucpt: _Optional[int] = ..., month_ucpt: _Optional[int] = ..., time_zone: _Optional[str] = ...) -> None: ...

class GetRatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Rates(_message.Message):
    __slots__ = ("base_ucpt_per_core_hour", "max_performance_bonus_permille", "stability_bonus_permille", "signup_grant_ucpt")
    BASE_UCPT_PER_CORE_HOUR_FIELD_NUMBER: _ClassVar[int]
    MAX_PERFORMANCE_BONUS_PERMILLE_FIELD_NUMBER: _ClassVar[int]
    STABILITY_BONUS_PERMILLE_FIELD_NUMBER: _ClassVar[int]
    SIGNUP_GRANT_UCPT_FIELD_NUMBER: _ClassVar[int]
    base_ucpt_per_core_hour: int
    max_performance_bonus_permille: int
    stability_bonus_permille: int
    signup_grant_ucpt: int
    def __init__(self, base_ucpt_per_core_hour: _Optional[int] = ..., max_performance_bonus_permille: _Optional[int] = ..., stability_bonus_permille: _Optional[int] = ..., signup_grant_ucpt: _Optional[int] = ...) -> None: ...
