"""How a job looks in `hivemind job ...` output: the JSON fields (stable keys for scripts)
and the lines printed for people."""

from __future__ import annotations

import shlex
from typing import Any

from app.cli.output import money, print_table, say
from app.services.jobs.states import job_state_name, task_state_name
from proto.hivemind.v1 import job_pb2


def job_fields(job: job_pb2.Job) -> dict[str, Any]:
    r = job.resources
    return {
        "job_id": job.job_id,
        "name": job.name,
        "state": job_state_name(job.state),
        "owner": job.owner,
        "runtime": job.runtime,
        "command": list(job.command),
        "tasks_total": job.tasks_total,
        "tasks_done": job.tasks_done,
        "tasks_failed": job.tasks_failed,
        "tasks_running": job.tasks_running,
        "tasks_cancelled": job.tasks_cancelled,
        "resources": {
            "cores": r.cores,
            "memory_mb": r.memory_mb,
            "disk_mb": r.disk_mb,
            "gpus": r.gpus,
            "timeout_s": r.timeout_s,
        },
        "replicas": job.replicas,
        "priority": job.priority,
        "max_attempts": job.max_attempts,
        **money("max_cost", job.max_cost_ucpt),
        **money("cost", job.cost_ucpt),
        **money("refunded", job.refunded_ucpt),
        "package_digest": job.package_digest,
        # Empty and 0 when results agree only by digest; 0 with a command = server default.
        "compare_command": list(job.compare_command),
        "compare_timeout_s": job.compare_timeout_s,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def task_fields(task: job_pb2.Task) -> dict[str, Any]:
    return {
        "index": task.index,
        "state": task_state_name(task.state),
        "attempts": task.attempts,
        "error": task.error,
        "input_name": task.input_name,
        "result_digest": task.result_digest,
        "result_size": task.result_size,
        "node_id": task.node_id,
        # verified (owners agreed), unverified (one node's word), checking, or "" (no result)
        "verification": task.verification,
        **money("cost", task.cost_ucpt),
    }


def status_fields(detail: job_pb2.JobDetail) -> dict[str, Any]:
    return {**job_fields(detail.job), "tasks": [task_fields(t) for t in detail.tasks]}


def show_status(obj: dict[str, Any]) -> None:
    say(f"job {obj['job_id']} ({obj['name']}): {obj['state']}")
    say(
        f"tasks: {obj['tasks_done']} done, {obj['tasks_failed']} failed, "
        f"{obj['tasks_running']} running, of {obj['tasks_total']}"
    )
    say(f"cost so far {obj['cost_cpt']} CPT of at most {obj['max_cost_cpt']} CPT")
    if obj.get("refunded_ucpt"):
        say(f"refunded {obj['refunded_cpt']} CPT")
    if obj.get("compare_command"):
        say(f"results compared with: {describe_compare(obj)}")
    tasks = obj.get("tasks") or []
    if tasks:
        rows = [
            (
                t["index"],
                t["state"],
                t.get("verification") or "",
                t["attempts"],
                t["cost_cpt"],
                t["error"] or "",
            )
            for t in tasks
        ]
        headers = ["Task", "State", "Result", "Attempts", "Cost CPT", "Error"]
        print_table(None, headers, rows)


def describe_compare(obj: dict[str, Any]) -> str:
    """'python3 /task/compare.py (up to 60 s per comparison)' for job fields with a command."""
    limit = obj.get("compare_timeout_s") or 0
    timeout = f"up to {limit} s per comparison" if limit else "the server's default timeout"
    return f"{shlex.join(obj['compare_command'])} ({timeout})"
