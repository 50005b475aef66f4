from proto.hivemind.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoundState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUND_STATE_UNSPECIFIED: _ClassVar[RoundState]
    ROUND_STATE_RUNNING: _ClassVar[RoundState]
    ROUND_STATE_AGGREGATING: _ClassVar[RoundState]
    ROUND_STATE_DONE: _ClassVar[RoundState]
    ROUND_STATE_FAILED: _ClassVar[RoundState]
    ROUND_STATE_CANCELLED: _ClassVar[RoundState]
ROUND_STATE_UNSPECIFIED: RoundState
ROUND_STATE_RUNNING: RoundState
ROUND_STATE_AGGREGATING: RoundState
ROUND_STATE_DONE: RoundState
ROUND_STATE_FAILED: RoundState
ROUND_STATE_CANCELLED: RoundState

class TaskInput(_message.Message):
    __slots__ = ("digest", "name")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    digest: str
    name: str
    def __init__(self, digest: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("name", "runtime", "command", "package_digest", "task_count", "inputs", "resources", "max_attempts", "replicas", "priority", "max_cost_ucpt", "idempotency_key", "compare_command", "compare_timeout_s", "rounds", "aggregate_command", "min_results", "round_deadline_s")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_UCPT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    COMPARE_COMMAND_FIELD_NUMBER: _ClassVar[int]
    COMPARE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_COMMAND_FIELD_NUMBER: _ClassVar[int]
    MIN_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ROUND_DEADLINE_S_FIELD_NUMBER: _ClassVar[int]
    name: str
    runtime: str
    command: _containers.RepeatedScalarFieldContainer[str]
    package_digest: str
    task_count: int
    inputs: _containers.RepeatedCompositeFieldContainer[TaskInput]
    resources: _common_pb2.Resources
    max_attempts: int
    replicas: int
    priority: float
    max_cost_ucpt: int
    idempotency_key: str
    compare_command: _containers.RepeatedScalarFieldContainer[str]
    compare_timeout_s: int
    rounds: int
    aggregate_command: _containers.RepeatedScalarFieldContainer[str]
    min_results: int
    round_deadline_s: int
    def __init__(self, name: _Optional[str] = ..., runtime: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., package_digest: _Optional[str] = ..., task_count: _Optional[int] = ..., inputs: _Optional[_Iterable[_Union[TaskInput, _Mapping]]] = ..., resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., max_attempts: _Optional[int] = ..., replicas: _Optional[int] = ..., priority: _Optional[float] = ..., max_cost_ucpt: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., compare_command: _Optional[_Iterable[str]] = ..., compare_timeout_s: _Optional[int] = ..., rounds: _Optional[int] = ..., aggregate_command: _Optional[_Iterable[str]] = ..., min_results: _Optional[int] = ..., round_deadline_s: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "name", "state", "runtime", "command", "tasks_total", "tasks_done", "tasks_failed", "tasks_running", "tasks_cancelled", "resources", "max_attempts", "replicas", "priority", "max_cost_ucpt", "cost_ucpt", "refunded_ucpt", "created_at", "finished_at", "owner", "package_digest", "compare_command", "compare_timeout_s", "rounds", "aggregate_command", "min_results", "round_deadline_s", "current_round", "round_tasks")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    TASKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TASKS_DONE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FAILED_FIELD_NUMBER: _ClassVar[int]
    TASKS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    TASKS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_UCPT_FIELD_NUMBER: _ClassVar[int]
    COST_UCPT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_UCPT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    COMPARE_COMMAND_FIELD_NUMBER: _ClassVar[int]
    COMPARE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_COMMAND_FIELD_NUMBER: _ClassVar[int]
    MIN_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ROUND_DEADLINE_S_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ROUND_FIELD_NUMBER: _ClassVar[int]
    ROUND_TASKS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    name: str
    state: _common_pb2.JobState
    runtime: str
    command: _containers.RepeatedScalarFieldContainer[str]
    tasks_total: int
    tasks_done: int
    tasks_failed: int
    tasks_running: int
    tasks_cancelled: int
    resources: _common_pb2.Resources
    max_attempts: int
    replicas: int
    priority: float
    max_cost_ucpt: int
    cost_ucpt: int
    refunded_ucpt: int
    created_at: int
    finished_at: int
    owner: str
    package_digest: str
    compare_command: _containers.RepeatedScalarFieldContainer[str]
    compare_timeout_s: int
    rounds: int
    aggregate_command: _containers.RepeatedScalarFieldContainer[str]
    min_results: int
    round_deadline_s: int
    current_round: int
    round_tasks: int
    def __init__(self, job_id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.JobState, str]] = ..., runtime: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., tasks_total: _Optional[int] = ..., tasks_done: _Optional[int] = ..., tasks_failed: _Optional[int] = ..., tasks_running: _Optional[int] = ..., tasks_cancelled: _Optional[int] = ..., resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., max_attempts: _Optional[int] = ..., replicas: _Optional[int] = ..., priority: _Optional[float] = ..., max_cost_ucpt: _Optional[int] = ..., cost_ucpt: _Optional[int] = ..., refunded_ucpt: _Optional[int] = ..., created_at: _Optional[int] = ..., finished_at: _Optional[int] = ..., owner: _Optional[str] = ..., package_digest: _Optional[str] = ..., compare_command: _Optional[_Iterable[str]] = ..., compare_timeout_s: _Optional[int] = ..., rounds: _Optional[int] = ..., aggregate_command: _Optional[_Iterable[str]] = ..., min_results: _Optional[int] = ..., round_deadline_s: _Optional[int] = ..., current_round: _Optional[int] = ..., round_tasks: _Optional[int] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("round", "state", "tasks_accepted", "model_digest", "result_digest", "result_size", "metrics", "started_at", "closed_at", "ended_at", "error")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ROUND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TASKS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    MODEL_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_SIZE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    round: int
    state: RoundState
    tasks_accepted: int
    model_digest: str
    result_digest: str
    result_size: int
    metrics: _containers.ScalarMap[str, float]
    started_at: int
    closed_at: int
    ended_at: int
    error: str
    def __init__(self, round: _Optional[int] = ..., state: _Optional[_Union[RoundState, str]] = ..., tasks_accepted: _Optional[int] = ..., model_digest: _Optional[str] = ..., result_digest: _Optional[str] = ..., result_size: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ..., started_at: _Optional[int] = ..., closed_at: _Optional[int] = ..., ended_at: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "index", "state", "attempts", "error", "input_name", "result_digest", "result_size", "node_id", "cost_ucpt", "verification", "round", "aggregate")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    RESULT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_SIZE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    COST_UCPT_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    index: int
    state: _common_pb2.TaskState
    attempts: int
    error: str
    input_name: str
    result_digest: str
    result_size: int
    node_id: str
    cost_ucpt: int
    verification: str
    round: int
    aggregate: bool
    def __init__(self, task_id: _Optional[str] = ..., index: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.TaskState, str]] = ..., attempts: _Optional[int] = ..., error: _Optional[str] = ..., input_name: _Optional[str] = ..., result_digest: _Optional[str] = ..., result_size: _Optional[int] = ..., node_id: _Optional[str] = ..., cost_ucpt: _Optional[int] = ..., verification: _Optional[str] = ..., round: _Optional[int] = ..., aggregate: _Optional[bool] = ...) -> None: ...

class JobDetail(_message.Message):
    __slots__ = ("job", "tasks", "rounds", "waiting")
    JOB_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    job: Job
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    rounds: _containers.RepeatedCompositeFieldContainer[Round]
    waiting: str
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., rounds: _Optional[_Iterable[_Union[Round, _Mapping]]] = ..., waiting: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("page", "all_users")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    ALL_USERS_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    all_users: bool
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., all_users: _Optional[bool] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id", "include_tasks")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TASKS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    include_tasks: bool
    def __init__(self, job_id: _Optional[str] = ..., include_tasks: _Optional[bool] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job", "changed_tasks", "message")
    JOB_FIELD_NUMBER: _ClassVar[int]
    CHANGED_TASKS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job: Job
    changed_tasks: _containers.RepeatedCompositeFieldContainer[Task]
    message: str
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., changed_tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., message: _Optional[str] = ...) -> None: ...

class GetResultsRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class TaskResult(_message.Message):
    __slots__ = ("index", "state", "result_digest", "result_size", "log", "error", "input_name", "round", "aggregate")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESULT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESULT_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    index: int
    state: _common_pb2.TaskState
    result_digest: str
    result_size: int
    log: str
    error: str
    input_name: str
    round: int
    aggregate: bool
    def __init__(self, index: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.TaskState, str]] = ..., result_digest: _Optional[str] = ..., result_size: _Optional[int] = ..., log: _Optional[str] = ..., error: _Optional[str] = ..., input_name: _Optional[str] = ..., round: _Optional[int] = ..., aggregate: _Optional[bool] = ...) -> None: ...

class GetResultsResponse(_message.Message):
    __slots__ = ("job", "results")
    JOB_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    job: Job
    results: _containers.RepeatedCompositeFieldContainer[TaskResult]
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., results: _Optional[_Iterable[_Union[TaskResult, _Mapping]]] = ...) -> None: ...

class EstimateCostRequest(_message.Message):
    __slots__ = ("resources", "tasks", "replicas", "priority", "compare", "compare_timeout_s", "rounds", "aggregate")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    COMPARE_FIELD_NUMBER: _ClassVar[int]
    COMPARE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    resources: _common_pb2.Resources
    tasks: int
    replicas: int
    priority: float
    compare: bool
    compare_timeout_s: int
    rounds: int
    aggregate: bool
    def __init__(self, resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., tasks: _Optional[int] = ..., replicas: _Optional[int] = ..., priority: _Optional[float] = ..., compare: _Optional[bool] = ..., compare_timeout_s: _Optional[int] = ..., rounds: _Optional[int] = ..., aggregate: _Optional[bool] = ...) -> None: ...

class EstimateCostResponse(_message.Message):
    __slots__ = ("worst_case_ucpt", "funded_from")
    WORST_CASE_UCPT_FIELD_NUMBER: _ClassVar[int]
    FUNDED_FROM_FIELD_NUMBER: _ClassVar[int]
    worst_case_ucpt: int
    funded_from: str
    def __init__(self, worst_case_ucpt: _Optional[int] = ..., funded_from: _Optional[str] = ...) -> None: ...
