"""How a job looks in `hivemind job ...` output: the JSON fields (stable keys for scripts)
and the lines printed for people."""

from __future__ import annotations

import shlex
from typing import Any

from app.cli.output import money, print_table, say, timestamp
from app.services.jobs.states import job_state_name, round_state_name, task_state_name
from proto.hivemind.v1 import job_pb2

# Metrics of a round shown as columns of `job status` (the JSON has them all).
MAX_METRIC_COLUMNS = 4


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
        # A job with rounds (README "Rounds"); 1, [] and 0 for a job without.
        "rounds": job.rounds or 1,
        "aggregate_command": list(job.aggregate_command),
        "min_results": job.min_results,
        "round_deadline_s": job.round_deadline_s,
        "current_round": job.current_round,  # 0-based
        "round_tasks": job.round_tasks,
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
        "round": task.round,  # 0-based
        "aggregate": task.aggregate,  # the round's aggregate (index -1)
    }


def round_fields(found: job_pb2.Round) -> dict[str, Any]:
    return {
        "round": found.round,  # 0-based
        "state": round_state_name(found.state),
        "tasks_accepted": found.tasks_accepted,
        "model_digest": found.model_digest,
        "result_digest": found.result_digest,
        "result_size": found.result_size,
        "metrics": dict(sorted(found.metrics.items())),
        "started_at": found.started_at,
        "closed_at": found.closed_at,
        "ended_at": found.ended_at,
        "error": found.error,
    }


def status_fields(detail: job_pb2.JobDetail) -> dict[str, Any]:
    return {
        **job_fields(detail.job),
        "tasks": [task_fields(t) for t in detail.tasks],
        "round_details": [round_fields(r) for r in detail.rounds],
    }


def describe_size(obj: dict[str, Any]) -> str:
    """'8 tasks', or '5 rounds of 4 tasks and an aggregate'."""
    if not obj.get("aggregate_command"):
        return f"{obj['tasks_total']} tasks"
    rounds = obj["rounds"]
    return (
        f"{rounds} round{'s' if rounds != 1 else ''} of {obj['round_tasks']} tasks and an aggregate"
    )


def format_metrics(metrics: dict[str, float] | Any) -> str:
    """'accuracy 0.9312, loss 0.2101'."""
    return ", ".join(f"{name} {value:.6g}" for name, value in sorted(dict(metrics).items()))


def round_line(found: job_pb2.Round, rounds: int) -> str:
    """What watching a job says when a round's model is accepted."""
    metrics = format_metrics(found.metrics)
    return f"round {found.round + 1} of {rounds} done" + (f": {metrics}" if metrics else "")


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
    rounds = obj.get("round_details") or []
    if obj.get("aggregate_command"):
        show_rounds(obj, rounds)
    tasks = obj.get("tasks") or []
    if rounds:  # the round it is in (or ended in), its aggregate last
        tasks = [t for t in tasks if t.get("round", 0) == obj["current_round"]]
        tasks.sort(key=lambda t: (bool(t.get("aggregate")), t["index"]))
    if tasks:
        rows = [
            (
                "aggregate" if t.get("aggregate") else t["index"],
                t["state"],
                t.get("verification") or "",
                t["attempts"],
                t["cost_cpt"],
                t["error"] or "",
            )
            for t in tasks
        ]
        headers = ["Task", "State", "Result", "Attempts", "Cost CPT", "Error"]
        title = f"Round {obj['current_round'] + 1}" if rounds else None
        print_table(title, headers, rows)


def show_rounds(obj: dict[str, Any], rounds: list[dict[str, Any]]) -> None:
    """The round the job is in, how its rounds close, and a line per round with its metrics."""
    total, current = obj["rounds"], obj["current_round"]
    state = rounds[current]["state"] if current < len(rounds) else "pending"
    say(f"round {current + 1} of {total}: {state}")
    need = obj["min_results"] or obj["round_tasks"]
    closing = f"a round needs {need} of its {obj['round_tasks']} tasks accepted"
    if obj.get("round_deadline_s"):
        closing += f" and waits up to {obj['round_deadline_s']} s for the others"
    say(f"aggregate: {shlex.join(obj['aggregate_command'])} ({closing})")
    names = sorted({name for r in rounds for name in r["metrics"]})[:MAX_METRIC_COLUMNS]
    rows = [
        (
            r["round"] + 1,
            r["state"],
            r["tasks_accepted"] if r["closed_at"] else "",
            *(f"{r['metrics'][n]:.6g}" if n in r["metrics"] else "" for n in names),
            timestamp(r["ended_at"]),
            r["error"],
        )
        for r in rounds
    ]
    headers = ["Round", "State", "Accepted", *names, "Ended", "Error"]
    print_table(None, headers, rows)


def describe_compare(obj: dict[str, Any]) -> str:
    """'python3 /task/compare.py (up to 60 s per comparison)' for job fields with a command."""
    limit = obj.get("compare_timeout_s") or 0
    timeout = f"up to {limit} s per comparison" if limit else "the server's default timeout"
    return f"{shlex.join(obj['compare_command'])} ({timeout})"
