"""`hivemind job ...`: submit a job package, follow it, cancel it, fetch its results.

The `results` and `logs` commands are in `job_results.py`, how a job is printed in
`job_view.py`; this module is the command group and the job-level commands.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path
from typing import Any

import grpc

from app.cli import job_results
from app.cli.common import common_arguments, open_session
from app.cli.job_view import describe_size, job_fields, round_line, show_status, status_fields
from app.cli.output import (
    CommandError,
    command,
    count_progress,
    cpt,
    emit,
    print_table,
    progress,
    say,
    timestamp,
    warn,
)
from app.services.client.session import ClientError, ClientSession
from app.services.jobs.package import JobPackage, JobSpec, load_package
from app.services.jobs.states import job_state_name
from app.services.jobs.submission import submit_package
from common.units import parse_cpt
from proto.hivemind.v1 import common_pb2, job_pb2

ENDED_STATES = {"done", "failed", "cancelled"}
WATCH_RECONNECTS = 5


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("job", help="submit jobs, follow them, fetch results")
    sub = parser.add_subparsers(dest="job_command", metavar="ACTION", required=True)
    common = common_arguments()

    p = sub.add_parser(
        "submit",
        parents=[common],
        help="upload a job package and submit it",
        description="Uploads the package and inputs over gRPC (the server must hold them "
        "anyway: it seeds them to workers over BitTorrent), then submits the job.",
    )
    p.add_argument("package", metavar="PKG", type=Path, help="a folder or .zip with hivemind.toml")
    tasks = p.add_mutually_exclusive_group()
    tasks.add_argument("--tasks", type=int, help="how many tasks (index in HIVEMIND_TASK_INDEX)")
    tasks.add_argument(
        "--input",
        dest="inputs",
        metavar="FILE",
        type=Path,
        nargs="+",
        action="extend",
        help="one task per input file (repeatable)",
    )
    p.add_argument("--cores", type=int, help="cores per task")
    p.add_argument("--memory", type=int, metavar="MB", help="memory per task, MB")
    p.add_argument("--timeout", type=int, metavar="S", help="wall-clock limit per task, seconds")
    p.add_argument("--disk", type=int, metavar="MB", help="disk per task, MB")
    p.add_argument("--gpus", type=int, metavar="N", help="NVIDIA GPUs per task")
    p.add_argument("--replicas", type=int, help="run each task N times on different owners")
    p.add_argument("--priority", type=float, help="reward multiplier, 0.1 to 10")
    p.add_argument("--max-cost", metavar="CPT", help="budget held in escrow (default: worst case)")
    p.add_argument("--max-attempts", type=int, help="tries per task before it fails")
    p.add_argument("--name", help="job name (default: from hivemind.toml or the folder)")
    p.add_argument("--runtime", help="runtime, e.g. python-3.11")
    p.add_argument(
        "--compare",
        metavar='"CMD ..."',
        help="command that decides whether two results of a task are equivalent (exit 0) or "
        "not (exit 1); it sees them at /results/a and /results/b",
    )
    p.add_argument(
        "--compare-timeout", type=int, metavar="S", help="time limit per comparison, seconds"
    )
    p.add_argument(
        "--aggregate",
        metavar='"CMD ..."',
        help="command that combines a round's accepted outputs (at /results, the model at "
        "/model) into the next model; the last one is the job's result",
    )
    p.add_argument("--rounds", type=int, help="rounds of tasks, each from the last model")
    p.add_argument(
        "--min-results", type=int, metavar="N", help="accepted tasks a round needs (default all)"
    )
    p.add_argument(
        "--round-deadline",
        type=int,
        metavar="S",
        help="how long a round waits for more than --min-results, seconds",
    )
    p.add_argument("--wait", action="store_true", help="follow the job until it ends")
    p.set_defaults(handler=submit)

    p = sub.add_parser("list", parents=[common], help="list your jobs, newest first")
    p.add_argument("--limit", type=int, default=20, help="how many jobs (default 20)")
    p.add_argument("--all", action="store_true", help="every user's jobs (admins only)")
    p.set_defaults(handler=list_jobs)

    for name, aliases, handler, text in (
        ("status", ["show"], status, "show a job and its tasks"),
        ("watch", [], watch, "follow a job until it ends"),
        ("cancel", [], cancel, "cancel a job; what it did not spend is refunded"),
    ):
        p = sub.add_parser(name, aliases=aliases, parents=[common], help=text)
        p.add_argument("job_id", metavar="JOB")
        p.set_defaults(handler=handler)

    p = sub.add_parser(
        "results",
        parents=[common],
        help="download and unpack a job's results",
        description="Downloads each result by BitTorrent when the server offers it (from the "
        "server and the workers that hold it), else over gRPC; every file is checked against "
        "its SHA-256 before it is unpacked.",
    )
    p.add_argument("job_id", metavar="JOB")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to unpack")
    p.add_argument("--no-bittorrent", action="store_true", help="download over gRPC only")
    p.set_defaults(handler=job_results.results)

    p = sub.add_parser("logs", parents=[common], help="print a job's task logs")
    p.add_argument("job_id", metavar="JOB")
    p.add_argument("--task", type=int, metavar="N", help="only task N")
    p.set_defaults(handler=job_results.logs)


# -- submit ---------------------------------------------------------------------------------


def spec_from_flags(package: JobPackage, args: Any) -> JobSpec:
    max_cost = None
    if args.max_cost is not None:
        try:
            max_cost = parse_cpt(args.max_cost)
        except ValueError as exc:
            raise CommandError(f"--max-cost: {exc}") from None
    spec = package.spec.with_overrides(
        compare_command=command_from_flag(args.compare, "--compare", "python3 compare.py"),
        aggregate_command=command_from_flag(args.aggregate, "--aggregate", "python3 merge.py"),
        rounds=args.rounds,
        min_results=args.min_results,
        round_deadline_s=args.round_deadline,
        compare_timeout_s=args.compare_timeout,
        name=args.name,
        runtime=args.runtime,
        tasks=args.tasks,
        cores=args.cores,
        memory_mb=args.memory,
        timeout_s=args.timeout,
        disk_mb=args.disk,
        gpus=args.gpus,
        replicas=args.replicas,
        priority=args.priority,
        max_attempts=args.max_attempts,
        max_cost_ucpt=max_cost,
    )
    if args.inputs:
        missing = [str(p) for p in args.inputs if not p.is_file()]
        if missing:
            raise CommandError(f"--input: no such file: {', '.join(missing)}")
    elif spec.tasks < 1:
        raise CommandError("say how many tasks: [job] tasks, --tasks N, or --input FILE ...")
    return spec


def command_from_flag(text: str | None, flag: str, example: str) -> list[str] | None:
    """--compare "python3 compare.py --tol 1e-6" as argv, split like a POSIX shell would."""
    if text is None:
        return None
    try:
        argv = shlex.split(text)
    except ValueError as exc:  # an unclosed quote
        raise CommandError(f"{flag}: {exc} in {text!r}") from None
    if not argv or not all(argv):
        raise CommandError(f'{flag} needs a command, e.g. {flag} "{example}", not {text!r}')
    return argv


def spot_check_note(spec: JobSpec) -> str | None:
    """Said at submit time: with one replica a compare command runs only on spot checks."""
    if spec.compare_command and spec.replicas == 1:
        return (
            "with replicas = 1 the compare command runs only when the server spot-checks a "
            "result (set replicas = 2 or more to compare every task)"
        )
    return None


@command
async def submit(args: Any) -> int:
    package = await asyncio.to_thread(load_package, args.package)
    for text in package.warnings:
        warn(text)
    spec = spec_from_flags(package, args)
    note = spot_check_note(spec)
    if note:
        print(f"note: {note}", file=sys.stderr)
    async with open_session(args) as session:
        with progress(args) as bars:
            job = await submit_package(
                session,
                package,
                spec,
                args.inputs or [],
                key_prefix="cli-submit",
                progress=lambda label, _before, _total: bars.bytes_task(label),
                warn=warn,
            )
        if not args.wait:
            result = job_fields(job)
            emit(
                args,
                result,
                lambda obj: say(
                    f"submitted job {job.job_id} ({describe_size(obj)}, "
                    f"up to {cpt(job.max_cost_ucpt)} held in escrow)"
                ),
            )
            await say_why_it_waits(session, args, job)
            return 0
        if not args.json:
            say(f"submitted job {job.job_id}; following it (Ctrl+C stops watching, not the job)")
        await say_why_it_waits(session, args, job)
        return await follow_job(session, args, job.job_id)


async def say_why_it_waits(session: ClientSession, args: Any, job: job_pb2.Job) -> None:
    """A job that needs what no online node offers (a free GPU) says so at once."""
    if args.json or job.resources.gpus <= 0:
        return
    detail = await session.jobs.GetJob(job_pb2.GetJobRequest(job_id=job.job_id))
    say_waiting(detail)


def say_waiting(detail: job_pb2.JobDetail) -> None:
    if detail.waiting:
        say(f"waiting: {detail.waiting}")


# -- list, status, watch, cancel ------------------------------------------------------------


@command
async def list_jobs(args: Any) -> int:
    if not 1 <= args.limit <= 10_000:
        raise CommandError(f"--limit must be between 1 and 10000, not {args.limit}")
    jobs: list[job_pb2.Job] = []
    token = ""
    async with open_session(args) as session:
        while len(jobs) < args.limit:
            page = common_pb2.PageRequest(page_size=min(100, args.limit - len(jobs)))
            page.page_token = token
            request = job_pb2.ListJobsRequest(page=page, all_users=args.all)
            response = await session.jobs.ListJobs(request)
            jobs.extend(response.jobs)
            token = response.next_page_token
            if not token or not response.jobs:
                break
    result = {"jobs": [job_fields(j) for j in jobs[: args.limit]]}

    def human(obj: dict[str, Any]) -> None:
        if not jobs:
            say("no jobs yet: submit one with `hivemind job submit PKG`")
            return
        rows = [
            (
                j["job_id"],
                j["name"],
                j["state"],
                f"{j['tasks_done']}/{j['tasks_total']}",
                j["cost_cpt"],
                timestamp(j["created_at"]),
            )
            for j in obj["jobs"]
        ]
        print_table(None, ["Job", "Name", "State", "Done", "Cost CPT", "Created"], rows)

    emit(args, result, human)
    return 0


async def get_status(session: ClientSession, job_id: str) -> dict[str, Any]:
    request = job_pb2.GetJobRequest(job_id=job_id, include_tasks=True)
    return status_fields(await session.jobs.GetJob(request))


@command
async def status(args: Any) -> int:
    async with open_session(args) as session:
        result = await get_status(session, args.job_id)
    emit(args, result, show_status)
    return 0


async def follow_job(session: ClientSession, args: Any, job_id: str) -> int:
    """Streams the job's events with a progress bar until it ends; prints the final status.
    Exit code 0 when the job is done, 1 when it failed or was cancelled."""
    reconnects = 0
    rounds = RoundNotes(session, job_id)
    with count_progress(args, f"job {job_id}") as bar:
        while True:
            try:
                async for event in session.jobs.WatchJob(job_pb2.WatchJobRequest(job_id=job_id)):
                    job = event.job
                    bar.update(job.tasks_done + job.tasks_failed, job.tasks_total)
                    if event.message:
                        bar.note(event.message)
                    for line in await rounds.after(job):
                        bar.note(line)
                    if job_state_name(job.state) in ENDED_STATES:
                        break
                    reconnects = 0
            except ClientError as exc:
                # The server restarted mid-watch: the stream starts again from "now".
                if exc.code != grpc.StatusCode.UNAVAILABLE or reconnects >= WATCH_RECONNECTS:
                    raise
                reconnects += 1
                await asyncio.sleep(min(5.0, 0.5 * 2**reconnects))
                continue
            final = await get_status(session, job_id)
            if final["state"] in ENDED_STATES:
                break
            # The stream ended early (a server restart): watch again, a bounded number of times.
            reconnects += 1
            if reconnects > WATCH_RECONNECTS:
                raise CommandError(f"the server keeps ending the watch of job {job_id}; retry")
            await asyncio.sleep(1.0)
    emit(args, final, show_status)
    if final["state"] == "done":
        return 0
    failed_round = next((r for r in final.get("round_details", []) if r["state"] == "failed"), None)
    if final["state"] == "failed" and failed_round is not None:
        print(
            f"error: job {job_id} failed in round {failed_round['round'] + 1}: "
            f"{failed_round['error']}",
            file=sys.stderr,
        )
    elif final["state"] == "cancelled":
        print(f"error: job {job_id} was cancelled", file=sys.stderr)
    else:
        print(
            f"error: job {job_id} failed: {final['tasks_failed']} of "
            f"{final['tasks_total']} tasks failed",
            file=sys.stderr,
        )
    return 1


class RoundNotes:
    """While a job with rounds is watched: a line with each round's metrics once its
    aggregate's output is accepted (they are read when the job moves to another round)."""

    def __init__(self, session: ClientSession, job_id: str) -> None:
        self.session = session
        self.job_id = job_id
        self.round = -1
        self.shown: set[int] = set()

    async def after(self, job: job_pb2.Job) -> list[str]:
        ended = job_state_name(job.state) in ENDED_STATES
        if not job.aggregate_command or (job.current_round == self.round and not ended):
            return []
        self.round = job.current_round
        detail = await self.session.jobs.GetJob(job_pb2.GetJobRequest(job_id=self.job_id))
        lines = []
        for found in detail.rounds:
            if found.state == job_pb2.ROUND_STATE_DONE and found.round not in self.shown:
                self.shown.add(found.round)
                lines.append(round_line(found, job.rounds))
        return lines


@command
async def watch(args: Any) -> int:
    async with open_session(args) as session:
        if not args.json:  # a job that waits for what no online node offers says so first
            say_waiting(await session.jobs.GetJob(job_pb2.GetJobRequest(job_id=args.job_id)))
        return await follow_job(session, args, args.job_id)


@command
async def cancel(args: Any) -> int:
    async with open_session(args) as session:
        job = await session.jobs.CancelJob(job_pb2.CancelJobRequest(job_id=args.job_id))
    result = job_fields(job)
    emit(
        args,
        result,
        lambda obj: say(
            f"job {job.job_id} is {obj['state']}; refunded {cpt(job.refunded_ucpt)} so far"
        ),
    )
    return 0
