from proto.hivemind.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListUsersRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class UserInfo(_message.Message):
    __slots__ = ("user", "balance_ucpt")
    USER_FIELD_NUMBER: _ClassVar[int]
    BALANCE_UCPT_FIELD_NUMBER: _ClassVar[int]
    user: _common_pb2.User
    balance_ucpt: int
    def __init__(self, user: _Optional[_Union[_common_pb2.User, _Mapping]] = ..., balance_ucpt: _Optional[int] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "next_page_token")
    USERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[UserInfo]
    next_page_token: str
    def __init__(self, users: _Optional[_Iterable[_Union[UserInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GrantRequest(_message.Message):
    __slots__ = ("username", "amount_ucpt", "memo", "idempotency_key")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_UCPT_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    username: str
    amount_ucpt: int
    memo: str
    idempotency_key: str
    def __init__(self, username: _Optional[str] = ..., amount_ucpt: _Optional[int] = ..., memo: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GrantResponse(_message.Message):
    __slots__ = ("tx_id", "balance_ucpt")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_UCPT_FIELD_NUMBER: _ClassVar[int]
    tx_id: str
    balance_ucpt: int
    def __init__(self, tx_id: _Optional[str] = ..., balance_ucpt: _Optional[int] = ...) -> None: ...

class SetAdminRequest(_message.Message):
    __slots__ = ("username", "is_admin")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    username: str
    is_admin: bool
    def __init__(self, username: _Optional[str] = ..., is_admin: _Optional[bool] = ...) -> None: ...

class ListNodesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeInfo(_message.Message):
    __slots__ = ("node_id", "name", "owner", "online", "banned", "last_seen", "running", "cores", "memory_mb", "benchmark_score", "runtimes", "consecutive_valid", "valid_results", "invalid_results", "errors", "expired_leases", "network", "lease_quota", "quarantined_until", "quarantine_reason")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    BANNED_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_SCORE_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_VALID_FIELD_NUMBER: _ClassVar[int]
    VALID_RESULTS_FIELD_NUMBER: _ClassVar[int]
    INVALID_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_LEASES_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    LEASE_QUOTA_FIELD_NUMBER: _ClassVar[int]
    QUARANTINED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    QUARANTINE_REASON_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    name: str
    owner: str
    online: bool
    banned: bool
    last_seen: int
    running: int
    cores: int
    memory_mb: int
    benchmark_score: float
    runtimes: _containers.RepeatedScalarFieldContainer[str]
    consecutive_valid: int
    valid_results: int
    invalid_results: int
    errors: int
    expired_leases: int
    network: str
    lease_quota: int
    quarantined_until: int
    quarantine_reason: str
    def __init__(self, node_id: _Optional[str] = ..., name: _Optional[str] = ..., owner: _Optional[str] = ..., online: _Optional[bool] = ..., banned: _Optional[bool] = ..., last_seen: _Optional[int] = ..., running: _Optional[int] = ..., cores: _Optional[int] = ..., memory_mb: _Optional[int] = ..., benchmark_score: _Optional[float] = ..., runtimes: _Optional[_Iterable[str]] = ..., consecutive_valid: _Optional[int] = ..., valid_results: _Optional[int] = ..., invalid_results: _Optional[int] = ..., errors: _Optional[int] = ..., expired_leases: _Optional[int] = ..., network: _Optional[str] = ..., lease_quota: _Optional[int] = ..., quarantined_until: _Optional[int] = ..., quarantine_reason: _Optional[str] = ...) -> None: ...

class ListNodesResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeInfo]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeInfo, _Mapping]]] = ...) -> None: ...

class BanNodeRequest(_message.Message):
    __slots__ = ("node_id", "reason")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    reason: str
    def __init__(self, node_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Runtime(_message.Message):
    __slots__ = ("name", "image", "image_id", "archive_digest", "created_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    image: str
    image_id: str
    archive_digest: str
    created_at: int
    def __init__(self, name: _Optional[str] = ..., image: _Optional[str] = ..., image_id: _Optional[str] = ..., archive_digest: _Optional[str] = ..., created_at: _Optional[int] = ...) -> None: ...

class ListRuntimesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRuntimesResponse(_message.Message):
    __slots__ = ("runtimes",)
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    runtimes: _containers.RepeatedCompositeFieldContainer[Runtime]
    def __init__(self, runtimes: _Optional[_Iterable[_Union[Runtime, _Mapping]]] = ...) -> None: ...

class AddRuntimeRequest(_message.Message):
    __slots__ = ("name", "image", "image_id", "archive_digest")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    name: str
    image: str
    image_id: str
    archive_digest: str
    def __init__(self, name: _Optional[str] = ..., image: _Optional[str] = ..., image_id: _Optional[str] = ..., archive_digest: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Stats(_message.Message):
    __slots__ = ("users", "nodes_online", "jobs_active", "tasks_pending", "tasks_running", "total_granted_ucpt", "total_in_accounts_ucpt", "escrow_ucpt")
    USERS_FIELD_NUMBER: _ClassVar[int]
    NODES_ONLINE_FIELD_NUMBER: _ClassVar[int]
    JOBS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    TASKS_PENDING_FIELD_NUMBER: _ClassVar[int]
    TASKS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    TOTAL_GRANTED_UCPT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IN_ACCOUNTS_UCPT_FIELD_NUMBER: _ClassVar[int]
    ESCROW_UCPT_FIELD_NUMBER: _ClassVar[int]
    users: int
    nodes_online: int
    jobs_active: int
    tasks_pending: int
    tasks_running: int
    total_granted_ucpt: int
    total_in_accounts_ucpt: int
    escrow_ucpt: int
    def __init__(self, users: _Optional[int] = ..., nodes_online: _Optional[int] = ..., jobs_active: _Optional[int] = ..., tasks_pending: _Optional[int] = ..., tasks_running: _Optional[int] = ..., total_granted_ucpt: _Optional[int] = ..., total_in_accounts_ucpt: _Optional[int] = ..., escrow_ucpt: _Optional[int] = ...) -> None: ...
