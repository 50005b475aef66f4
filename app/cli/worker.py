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
import hashlib
import logging
import signal
import sys
from typing import Any

from app.cli.common import common_arguments, open_session, open_settings, server_of
from app.cli.output import CommandError, command, emit, money, say, warn
from app.services.client.session import ClientError
from app.services.executors.base import Executor
from app.services.settings import SettingsStore
from app.services.torrent.fetch import open_torrents
from app.services.worker import events as ev
from app.services.worker.agent import WorkerAgent
from app.services.worker.options import WorkerOptions
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
        choices=("docker", "process"),
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


async def make_executor(name: str, settings: SettingsStore) -> Executor:
    """The executor asked for, ready to run tasks; CommandError saying what to do if not."""
    if name == "process":
        from app.services.executors.process.executor import ProcessExecutor

        return ProcessExecutor()  # logs the no-sandbox warning once
    if name != "docker":
        raise CommandError(f"unknown executor {name!r}: choose docker or process")
    try:
        from app.services.executors.docker.executor import DockerExecutor
    except ImportError as exc:
        raise CommandError(
            f"the Docker executor is not available ({exc}); {PROCESS_HINT}", "NO_DOCKER"
        ) from None
    # One label per HiveMind home: two workers on one machine never remove each other's tasks.
    instance = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:12]
    executor = DockerExecutor(instance=instance)
    availability = await executor.available()
    if not availability:
        raise CommandError(f"{availability.reason}; {PROCESS_HINT}", "NO_DOCKER")
    runtimes = await asyncio.to_thread(executor.runtimes)
    if not runtimes:
        warn(
            "no runtime image is present here yet (hivemind/python:3.11): each is fetched from "
            "the server when a task needs it, if the admin stored it (`make runtime-image "
            "REGISTER_DATA_DIR=...`); or build it here with `make runtime-image`"
        )
    return executor


def make_policy(settings: SettingsStore) -> Any:
    """The contributor's idle/battery/schedule policy, when that module is installed."""
    try:
        from app.services.policy import PolicyEngine
    except ImportError:
        return None
    try:
        return PolicyEngine(settings)
    except Exception as exc:  # a broken policy backend must not keep the worker from running
        warn(f"resource policy unavailable ({exc}); running without it")
        return None


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


@command
async def run_worker(args: Any) -> int:
    _check_args(args)
    _setup_logging(args.quiet)
    settings = open_settings(args)
    server = server_of(args, settings)
    executor_name = args.executor or settings.settings.contributor.executor
    executor = await make_executor(executor_name, settings)
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
        try:
            user = await session.whoami()  # fails early, clearly, when not logged in
            who = user.username
        except ClientError as exc:
            if exc.code not in RETRYABLE:
                raise
            # The server may just be starting (boot order): the agent keeps trying.
            warn(f"cannot reach {server} yet ({exc.message}); will keep trying")
            who = "(not yet known)"
        torrents = await open_torrents(settings, server, enabled=not args.no_bittorrent)
        agent = WorkerAgent(
            session,
            settings,
            executor,
            session.credentials,
            policy=make_policy(settings),
            options=options,
            torrents=torrents,
        )
        if not args.json:
            agent.events.subscribe(_print_event)
            say(f"worker for {who} on {server} ({executor.name} executor)")
        _install_signal_handlers(agent, args)
        try:
            await agent.run()
        finally:
            if torrents is not None:
                await torrents.close()
    if agent.stop_reason:
        raise CommandError(f"the server refused this node: {agent.stop_reason}", "REFUSED")
    result = {
        "node_id": agent.node_id,
        "executor": executor.name,
        "tasks_done": agent.tasks_done,
        "tasks_failed": agent.tasks_failed,
        **money("earned", agent.earned_ucpt),
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
