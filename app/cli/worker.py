"""`hivemind worker run`: lend this machine to the network from a terminal or a service.

Logs in with the stored user login (`hivemind account login`), registers the machine as a node
(once; the node credential is kept), and works until SIGINT/SIGTERM. Tasks run in Docker by
default; the process executor (no sandbox) must be asked for by name.

`hivemind worker rotate-secret` replaces this machine's node secret on demand (a running
worker also replaces it when it gets older than `node_secret_max_age_days`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from app.cli.common import common_arguments, open_session, open_settings, server_of
from app.cli.output import CommandError, command, emit, money, say, warn
from app.services.client.session import ClientError, ClientSession
from app.services.executors.choice import EXECUTOR_KINDS, ExecutorUnavailable
from app.services.settings import SettingsStore
from app.services.worker import events as ev
from app.services.worker.agent import WorkerAgent
from app.services.worker.assembly import OpenedWorker, open_worker
from app.services.worker.options import WorkerOptions
from app.services.worker.policy import contributor_policy
from app.services.worker.report import RETRYABLE
from app.services.worker.secret import rotate_stored_secret
from common.units import format_ucpt

log = logging.getLogger("app.cli.worker")

PROCESS_HINT = "to run tasks without a sandbox on a trusted private network, use --executor process"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="lend this machine: run tasks, earn CPT")
    sub = parser.add_subparsers(dest="worker_command", metavar="ACTION", required=True)
    run = sub.add_parser(
        "run",
        parents=[common_arguments()],
        help="register this machine as a node and run tasks until stopped",
        description="Runs tasks for the network until SIGINT/SIGTERM (Ctrl-C once: finish "
        "running tasks; twice: stop them now).",
    )
    run.add_argument(
        "--executor",
        choices=EXECUTOR_KINDS,
        help="docker (default: a hardened container per task) or process (NO sandbox)",
    )
    run.add_argument("--cores", type=int, help="cores to lend (default: settings; 0 = all)")
    run.add_argument(
        "--memory", type=int, metavar="MB", help="memory to lend (default: settings; 0 = 75%%)"
    )
    run.add_argument(
        "--max-tasks", type=int, default=0, metavar="N", help="at most N tasks at a time"
    )
    run.add_argument("--once", action="store_true", help="run one batch of tasks, then exit")
    run.add_argument(
        "--exit-when-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="exit after S seconds with nothing to do",
    )
    run.add_argument("--name", default="", help="the node's name (default: the hostname)")
    run.add_argument(
        "--drain",
        type=float,
        default=30.0,
        metavar="S",
        help="on stop, wait this long for running tasks (default 30)",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    run.add_argument(
        "--no-bittorrent",
        action="store_true",
        help="fetch and send every file over gRPC only (default: the bittorrent setting)",
    )
    run.set_defaults(handler=run_worker)
    rotate = sub.add_parser(
        "rotate-secret",
        parents=[common_arguments()],
        help="replace this machine's node secret; the old one stops working at once",
        description="Asks the server for a new node secret and stores it; the old one stops "
        "working at once. When the server already refuses the stored secret (someone else "
        "rotated it, or the reply of an earlier rotation was lost), your login replaces it.",
    )
    rotate.set_defaults(handler=rotate_secret)


def _check_args(args: Any) -> None:
    for name, value in (("--cores", args.cores), ("--memory", args.memory)):
        if value is not None and value < 0:
            raise CommandError(f"{name} must not be negative")
    if args.max_tasks < 0:
        raise CommandError("--max-tasks must not be negative")
    if args.exit_when_idle < 0 or args.drain < 0:
        raise CommandError("--exit-when-idle and --drain must not be negative")


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def _print_event(event: ev.WorkerEvent) -> None:
    where = event.task_text  # "comparing results of job J task N" for a comparison
    if event.kind == ev.TASK_STARTED:
        say(f"started {where}")
    elif event.kind == ev.TASK_FINISHED:
        say(f"done    {where}")
    elif event.kind == ev.TASK_FAILED:
        say(f"failed  {where}: {event.message}")
    elif event.kind == ev.PAYOUT:
        say(f"earned  {format_ucpt(event.payout_ucpt)} CPT for {where}")
    elif event.kind == ev.PAUSED:
        say(f"paused: {event.message}")
    elif event.kind == ev.RESUMED:
        say("resumed")
    elif event.kind == ev.HELD_BACK:
        say(f"held back by the server: {event.message}")


@command
async def run_worker(args: Any) -> int:
    _check_args(args)
    _setup_logging(args.quiet)
    settings = open_settings(args)
    server = server_of(args, settings)
    options = WorkerOptions(
        name=args.name,
        cores=args.cores,
        memory_mb=args.memory,
        max_tasks=args.max_tasks,
        once=args.once,
        exit_when_idle_s=args.exit_when_idle,
        drain_timeout_s=args.drain,
    )
    async with open_session(args) as session:
        worker = await _open_worker(session, settings, args, options)
        agent = worker.agent
        try:
            who = await _username(session, server)  # fails early, clearly, when not logged in
            if not args.json:
                agent.events.subscribe(_print_event)
                say(f"worker for {who} on {server} ({agent.executor.name} executor)")
            _install_signal_handlers(agent, args)
            await agent.run()
        finally:
            await worker.close()
    if agent.stop_reason:
        raise CommandError(f"the server refused this node: {agent.stop_reason}", "REFUSED")
    result = {
        "node_id": agent.node_id,
        "executor": agent.executor.name,
        "tasks_done": agent.tasks_done,
        "tasks_failed": agent.tasks_failed,
        **money("earned", agent.earned_ucpt),
        "held_back": agent.held_back,  # why the server last gave it fewer tasks, if it did
    }
    emit(
        args,
        result,
        lambda r: say(
            f"stopped: {r['tasks_done']} tasks done, {r['tasks_failed']} failed, "
            f"earned {r['earned_cpt']} CPT"
        ),
    )
    return 0


async def _open_worker(
    session: ClientSession, settings: SettingsStore, args: Any, options: WorkerOptions
) -> OpenedWorker:
    """The worker of this home; CommandError saying what to do when its executor cannot run."""
    try:
        worker = await open_worker(
            session,
            settings,
            session.credentials,
            executor=args.executor or settings.settings.contributor.executor,
            policy=contributor_policy(settings),
            options=options,
            bittorrent=not args.no_bittorrent,
        )
    except ExecutorUnavailable as exc:
        raise CommandError(f"{exc}; {PROCESS_HINT}", "NO_DOCKER") from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if worker.notice:
        warn(worker.notice)
    return worker


async def _username(session: ClientSession, server: str) -> str:
    try:
        return (await session.whoami()).username
    except ClientError as exc:
        if exc.code not in RETRYABLE:
            raise
        # The server may just be starting (boot order): the agent keeps trying.
        warn(f"cannot reach {server} yet ({exc.message}); will keep trying")
        return "(not yet known)"


@command
async def rotate_secret(args: Any) -> int:
    settings = open_settings(args)
    server = server_of(args, settings)
    async with open_session(args) as session:
        node = await asyncio.to_thread(session.credentials.load_node, server)
        if node is None:
            raise CommandError(
                f"no node is registered on this machine for {server}: "
                "`hivemind worker run` registers one",
                "NO_NODE",
            )
        rotated = await rotate_stored_secret(session, node)
    if rotated.by_owner:
        warn(
            f"the server refused the stored node secret ({rotated.refused}); "
            "replaced it with your login instead"
        )
    result = {
        "node_id": rotated.node_id,
        "server": server,
        "rotated_with": "login" if rotated.by_owner else "node_secret",
    }
    emit(
        args,
        result,
        lambda r: say(f"node {r['node_id']}: new secret stored; the old one no longer works"),
    )
    return 0


def _install_signal_handlers(agent: WorkerAgent, args: Any) -> None:
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if agent.stopping:
            if not args.json:
                say("stopping running tasks now")
        elif not args.json:
            say("stopping: finishing running tasks (press Ctrl-C again to stop them now)")
        agent.request_stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers: Ctrl-C raises KeyboardInterrupt, which the
        # CLI's main turns into exit code 130.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
