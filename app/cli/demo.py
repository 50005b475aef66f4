"""`hivemind demo`: a whole HiveMind network on this machine for a minute (see
app/demo/run.py), ending with the π estimate, how each replicated task was verified, and
every balance."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

from app.cli.output import (
    CommandError,
    command,
    count_progress,
    cpt,
    emit,
    print_table,
    say,
    wants_json,
)
from app.demo.run import CONTRIBUTORS, SUBMITTER, DemoError, planned_tasks, run_demo
from app.services.executors.choice import AUTO, EXECUTOR_KINDS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a whole network here for a minute: server, 4 users, 3 workers, two jobs",
        description="Starts a temporary server, registers alice (submitter), bob, carol and "
        "dave (contributors), runs their workers, computes π with examples/pi (merged on the "
        "network by its aggregate, on nodes of two owners), then runs "
        "examples/montecarlo with every task replicated on two owners' nodes and their "
        "results compared by the third owner's node, and shows that every CPT is accounted "
        "for. Leaves nothing behind.",
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.add_argument("--tasks", type=int, default=8, help="tasks of the π job (default 8)")
    parser.add_argument(
        "--executor",
        choices=(AUTO, *EXECUTOR_KINDS),
        default="auto",
        help="auto (default): Docker when available, else the process executor",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="keep the demo's files in DIR (for a look)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show every log line")
    parser.set_defaults(handler=demo)


@command
async def demo(args: Any) -> int:
    if not 1 <= args.tasks <= 1000:
        raise CommandError("--tasks must be between 1 and 1000")
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    quiet = wants_json(args)
    try:
        total = await asyncio.to_thread(planned_tasks, args.tasks)
        with count_progress(args, "tasks done", total) as update:
            result = await run_demo(
                tasks=args.tasks,
                executor=args.executor,
                status=None if quiet else say,
                progress=update,
                keep_dir=args.keep,
            )
    except DemoError as exc:
        raise CommandError(f"demo failed: {exc}", "DEMO_FAILED") from None
    emit(args, result.to_dict(), _show)
    ok = result.conserved and result.all_done
    return 0 if ok and result.ledger_ok is not False else 1


def _show(obj: dict[str, Any]) -> None:
    say("")
    merged = " and ".join(obj["merged_by"]) or "nobody"
    say(
        f"π ≈ {obj['pi']:.6f}  ({obj['tasks_done']} tasks on the {obj['executor']} executor,"
        f" merged on the network by {merged}: `{shlex.join(obj['aggregate_command'])}`)"
    )
    replicated = obj["montecarlo"]
    say(
        f"{replicated['example']}: each task ran on nodes of {replicated['replicas']} owners, "
        f"their results compared with `{shlex.join(replicated['compare_command'])}` on a "
        "third owner's node"
    )
    for task in replicated["tasks"]:
        say(f"  {task_line(task)}")
    rows = []
    for name, ucpt in obj["balances"].items():
        role = "submitter" if name == SUBMITTER else "contributor"
        earned = obj["earned"].get(name)
        rows.append((name, role, cpt(ucpt), cpt(earned) if earned is not None else ""))
    print_table("balances", ["user", "role", "balance", "earned"], rows)
    refunded = obj["refunded_ucpt"] + replicated["refunded_ucpt"]
    say(
        f"{SUBMITTER} paid {cpt(obj['cost_ucpt'])} for π and {cpt(replicated['cost_ucpt'])} "
        f"for {replicated['example']} (replicas and comparisons); refunded from escrow "
        f"{cpt(refunded)}"
    )
    total, granted = obj["total_ucpt"], obj["total_granted_ucpt"]
    verdict = "conserved" if obj["conserved"] else "NOT CONSERVED"
    say(f"sum of balances {cpt(total)} = total granted {cpt(granted)}: {verdict}")
    if obj["ledger_ok"] is not None:
        say(f"server ledger audit: {'ok' if obj['ledger_ok'] else 'PROBLEMS'}")
    say(f"done in {obj['seconds']:.1f} s ({SUBMITTER} paid {', '.join(CONTRIBUTORS)})")


def task_line(task: dict[str, Any]) -> str:
    """'task 2: π ≈ 3.14172, verified (2 owners agreed; compared by dave)'."""
    if task["state"] != "done":
        return f"task {task['index']}: {task['state']}" + (
            f" ({task['error']})" if task["error"] else ""
        )
    estimate = task["estimate"]
    line = f"task {task['index']}: " + (
        f"π ≈ {estimate:.5f}" if estimate is not None else "no estimate in its result"
    )
    line += f", {task['verification'] or 'not checked'}"
    how = []
    if task["verification"] == "verified" and task["agreed"]:
        how.append(f"{len(task['agreed'])} owners agreed")
    elif task["agreed"]:  # taken from one node, or still waiting for another result
        how.append(f"result of {' and '.join(task['agreed'])}")
    if task["compared_by"]:
        how.append(f"compared by {' and '.join(task['compared_by'])}")
    return line + (f" ({'; '.join(how)})" if how else "")
