"""Job, task and round states as the words people read and JSON carries: "pending",
"running", "done", "failed", "cancelled" (and "leased" for a task, "aggregating" for a
round); "unknown" for a value this client does not know (a newer server)."""

from __future__ import annotations

from typing import Any

from proto.hivemind.v1 import common_pb2, job_pb2


def job_state_name(value: int) -> str:
    """JobState -> "pending", "running", "done", "failed", "cancelled" (or "unknown")."""
    return _enum_word(common_pb2.JobState, value, "JOB_STATE_")


def task_state_name(value: int) -> str:
    """TaskState -> "pending", "leased", "running", "done", "failed", "cancelled"."""
    return _enum_word(common_pb2.TaskState, value, "TASK_STATE_")


def round_state_name(value: int) -> str:
    """RoundState -> "running", "aggregating", "done", "failed", "cancelled"."""
    return _enum_word(job_pb2.RoundState, value, "ROUND_STATE_")


def _enum_word(enum: Any, value: int, prefix: str) -> str:
    try:
        word = enum.Name(value).removeprefix(prefix).lower()
    except ValueError:
        return "unknown"
    return "unknown" if word == "unspecified" else word
