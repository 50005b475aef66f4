from proto.hivemind.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Hardware(_message.Message):
    __slots__ = ("cores", "memory_mb", "disk_mb", "gpus", "os", "arch", "cpu_model", "benchmark_score", "hostname")
    CORES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    DISK_MB_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    ARCH_FIELD_NUMBER: _ClassVar[int]
    CPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_SCORE_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    cores: int
    memory_mb: int
    disk_mb: int
    gpus: int
    os: str
    arch: str
    cpu_model: str
    benchmark_score: float
    hostname: str
    def __init__(self, cores: _Optional[int] = ..., memory_mb: _Optional[int] = ..., disk_mb: _Optional[int] = ..., gpus: _Optional[int] = ..., os: _Optional[str] = ..., arch: _Optional[str] = ..., cpu_model: _Optional[str] = ..., benchmark_score: _Optional[float] = ..., hostname: _Optional[str] = ...) -> None: ...

class RegisterNodeRequest(_message.Message):
    __slots__ = ("name", "hardware", "runtimes", "executors")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    EXECUTORS_FIELD_NUMBER: _ClassVar[int]
    name: str
    hardware: Hardware
    runtimes: _containers.RepeatedScalarFieldContainer[str]
    executors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., hardware: _Optional[_Union[Hardware, _Mapping]] = ..., runtimes: _Optional[_Iterable[str]] = ..., executors: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterNodeResponse(_message.Message):
    __slots__ = ("node_id", "node_secret", "heartbeat_interval_s")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_SECRET_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    node_secret: str
    heartbeat_interval_s: int
    def __init__(self, node_id: _Optional[str] = ..., node_secret: _Optional[str] = ..., heartbeat_interval_s: _Optional[int] = ...) -> None: ...

class RotateNodeSecretRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class UpdateNodeRequest(_message.Message):
    __slots__ = ("hardware", "runtimes", "executors")
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    EXECUTORS_FIELD_NUMBER: _ClassVar[int]
    hardware: Hardware
    runtimes: _containers.RepeatedScalarFieldContainer[str]
    executors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, hardware: _Optional[_Union[Hardware, _Mapping]] = ..., runtimes: _Optional[_Iterable[str]] = ..., executors: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateNodeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Usage(_message.Message):
    __slots__ = ("cpu_percent", "memory_used_mb", "hivemind_cpu_percent", "hivemind_memory_mb", "free_cores", "free_memory_mb")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_MB_FIELD_NUMBER: _ClassVar[int]
    HIVEMIND_CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    HIVEMIND_MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    FREE_CORES_FIELD_NUMBER: _ClassVar[int]
    FREE_MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    memory_used_mb: int
    hivemind_cpu_percent: float
    hivemind_memory_mb: int
    free_cores: int
    free_memory_mb: int
    def __init__(self, cpu_percent: _Optional[float] = ..., memory_used_mb: _Optional[int] = ..., hivemind_cpu_percent: _Optional[float] = ..., hivemind_memory_mb: _Optional[int] = ..., free_cores: _Optional[int] = ..., free_memory_mb: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("usage", "running_attempt_ids", "paused", "pause_reason", "seeding_digests", "bt_endpoint")
    USAGE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_ATTEMPT_IDS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    SEEDING_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    BT_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    usage: Usage
    running_attempt_ids: _containers.RepeatedScalarFieldContainer[str]
    paused: bool
    pause_reason: str
    seeding_digests: _containers.RepeatedScalarFieldContainer[str]
    bt_endpoint: str
    def __init__(self, usage: _Optional[_Union[Usage, _Mapping]] = ..., running_attempt_ids: _Optional[_Iterable[str]] = ..., paused: _Optional[bool] = ..., pause_reason: _Optional[str] = ..., seeding_digests: _Optional[_Iterable[str]] = ..., bt_endpoint: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("cancel_attempt_ids", "lease_deadline", "heartbeat_interval_s")
    CANCEL_ATTEMPT_IDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    cancel_attempt_ids: _containers.RepeatedScalarFieldContainer[str]
    lease_deadline: int
    heartbeat_interval_s: int
    def __init__(self, cancel_attempt_ids: _Optional[_Iterable[str]] = ..., lease_deadline: _Optional[int] = ..., heartbeat_interval_s: _Optional[int] = ...) -> None: ...

class LeaseTasksRequest(_message.Message):
    __slots__ = ("free_cores", "free_memory_mb", "free_disk_mb", "max_tasks", "runtimes", "free_gpus")
    FREE_CORES_FIELD_NUMBER: _ClassVar[int]
    FREE_MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    FREE_DISK_MB_FIELD_NUMBER: _ClassVar[int]
    MAX_TASKS_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    FREE_GPUS_FIELD_NUMBER: _ClassVar[int]
    free_cores: int
    free_memory_mb: int
    free_disk_mb: int
    max_tasks: int
    runtimes: _containers.RepeatedScalarFieldContainer[str]
    free_gpus: int
    def __init__(self, free_cores: _Optional[int] = ..., free_memory_mb: _Optional[int] = ..., free_disk_mb: _Optional[int] = ..., max_tasks: _Optional[int] = ..., runtimes: _Optional[_Iterable[str]] = ..., free_gpus: _Optional[int] = ...) -> None: ...

class TaskLease(_message.Message):
    __slots__ = ("attempt_id", "task_id", "job_id", "task_index", "runtime", "command", "package_digest", "input_digest", "input_name", "resources", "lease_deadline", "runtime_image", "runtime_archive_digest", "package_size", "input_size", "comparison", "round", "rounds", "model_digest", "model_size", "aggregate")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_INDEX_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    INPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_IMAGE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ARCHIVE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    INPUT_SIZE_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_DIGEST_FIELD_NUMBER: _ClassVar[int]
    MODEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    task_id: str
    job_id: str
    task_index: int
    runtime: str
    command: _containers.RepeatedScalarFieldContainer[str]
    package_digest: str
    input_digest: str
    input_name: str
    resources: _common_pb2.Resources
    lease_deadline: int
    runtime_image: str
    runtime_archive_digest: str
    package_size: int
    input_size: int
    comparison: ResultComparison
    round: int
    rounds: int
    model_digest: str
    model_size: int
    aggregate: AggregateInputs
    def __init__(self, attempt_id: _Optional[str] = ..., task_id: _Optional[str] = ..., job_id: _Optional[str] = ..., task_index: _Optional[int] = ..., runtime: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., package_digest: _Optional[str] = ..., input_digest: _Optional[str] = ..., input_name: _Optional[str] = ..., resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., lease_deadline: _Optional[int] = ..., runtime_image: _Optional[str] = ..., runtime_archive_digest: _Optional[str] = ..., package_size: _Optional[int] = ..., input_size: _Optional[int] = ..., comparison: _Optional[_Union[ResultComparison, _Mapping]] = ..., round: _Optional[int] = ..., rounds: _Optional[int] = ..., model_digest: _Optional[str] = ..., model_size: _Optional[int] = ..., aggregate: _Optional[_Union[AggregateInputs, _Mapping]] = ...) -> None: ...

class AggregateInputs(_message.Message):
    __slots__ = ("outputs",)
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[RoundOutput]
    def __init__(self, outputs: _Optional[_Iterable[_Union[RoundOutput, _Mapping]]] = ...) -> None: ...

class RoundOutput(_message.Message):
    __slots__ = ("task_index", "digest", "size")
    TASK_INDEX_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    task_index: int
    digest: str
    size: int
    def __init__(self, task_index: _Optional[int] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ResultComparison(_message.Message):
    __slots__ = ("result_a_digest", "result_a_size", "result_b_digest", "result_b_size")
    RESULT_A_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_A_SIZE_FIELD_NUMBER: _ClassVar[int]
    RESULT_B_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_B_SIZE_FIELD_NUMBER: _ClassVar[int]
    result_a_digest: str
    result_a_size: int
    result_b_digest: str
    result_b_size: int
    def __init__(self, result_a_digest: _Optional[str] = ..., result_a_size: _Optional[int] = ..., result_b_digest: _Optional[str] = ..., result_b_size: _Optional[int] = ...) -> None: ...

class LeaseTasksResponse(_message.Message):
    __slots__ = ("leases", "held_back")
    LEASES_FIELD_NUMBER: _ClassVar[int]
    HELD_BACK_FIELD_NUMBER: _ClassVar[int]
    leases: _containers.RepeatedCompositeFieldContainer[TaskLease]
    held_back: str
    def __init__(self, leases: _Optional[_Iterable[_Union[TaskLease, _Mapping]]] = ..., held_back: _Optional[str] = ...) -> None: ...

class StartAttemptsRequest(_message.Message):
    __slots__ = ("attempt_ids",)
    ATTEMPT_IDS_FIELD_NUMBER: _ClassVar[int]
    attempt_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, attempt_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AttemptStats(_message.Message):
    __slots__ = ("cpu_seconds", "wall_seconds", "peak_memory_mb")
    CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    cpu_seconds: float
    wall_seconds: float
    peak_memory_mb: int
    def __init__(self, cpu_seconds: _Optional[float] = ..., wall_seconds: _Optional[float] = ..., peak_memory_mb: _Optional[int] = ...) -> None: ...

class Completion(_message.Message):
    __slots__ = ("attempt_id", "result_digest", "result_size", "exit_code", "log", "stats")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    result_digest: str
    result_size: int
    exit_code: int
    log: str
    stats: AttemptStats
    def __init__(self, attempt_id: _Optional[str] = ..., result_digest: _Optional[str] = ..., result_size: _Optional[int] = ..., exit_code: _Optional[int] = ..., log: _Optional[str] = ..., stats: _Optional[_Union[AttemptStats, _Mapping]] = ...) -> None: ...

class CompleteAttemptsRequest(_message.Message):
    __slots__ = ("completions",)
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    completions: _containers.RepeatedCompositeFieldContainer[Completion]
    def __init__(self, completions: _Optional[_Iterable[_Union[Completion, _Mapping]]] = ...) -> None: ...

class Failure(_message.Message):
    __slots__ = ("attempt_id", "error", "exit_code", "log", "stats")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    error: str
    exit_code: int
    log: str
    stats: AttemptStats
    def __init__(self, attempt_id: _Optional[str] = ..., error: _Optional[str] = ..., exit_code: _Optional[int] = ..., log: _Optional[str] = ..., stats: _Optional[_Union[AttemptStats, _Mapping]] = ...) -> None: ...

class FailAttemptsRequest(_message.Message):
    __slots__ = ("failures",)
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    failures: _containers.RepeatedCompositeFieldContainer[Failure]
    def __init__(self, failures: _Optional[_Iterable[_Union[Failure, _Mapping]]] = ...) -> None: ...

class ReturnAttemptsRequest(_message.Message):
    __slots__ = ("attempt_ids", "reason")
    ATTEMPT_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    attempt_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, attempt_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class AttemptAck(_message.Message):
    __slots__ = ("attempt_id", "accepted", "error", "payout_ucpt")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_UCPT_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    accepted: bool
    error: str
    payout_ucpt: int
    def __init__(self, attempt_id: _Optional[str] = ..., accepted: _Optional[bool] = ..., error: _Optional[str] = ..., payout_ucpt: _Optional[int] = ...) -> None: ...

class AttemptAcks(_message.Message):
    __slots__ = ("acks",)
    ACKS_FIELD_NUMBER: _ClassVar[int]
    acks: _containers.RepeatedCompositeFieldContainer[AttemptAck]
    def __init__(self, acks: _Optional[_Iterable[_Union[AttemptAck, _Mapping]]] = ...) -> None: ...
