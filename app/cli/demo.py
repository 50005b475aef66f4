"""`hivemind demo`: a whole HiveMind network on this machine for a minute (see
app/services/demo.py), ending with the π estimate and every balance."""

from __future__ import annotations

import argparse
import logging
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
from app.services.demo import CONTRIBUTORS, SUBMITTER, DemoError, run_demo


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a whole network here for a minute: server, 3 users, 2 workers, one job",
        description="Starts a temporary server, registers alice (submitter), bob and carol "
        "(contributors), runs their workers, computes π with examples/pi and shows that "
        "every CPT is accounted for. Leaves nothing behind.",
    )
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.add_argument("--tasks", type=int, default=8, help="tasks of the π job (default 8)")
    parser.add_argument(
        "--executor",
        choices=("auto", "docker", "process"),
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
        with count_progress(args, "tasks done", args.tasks) as update:
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
    ok = result.conserved and result.tasks_done == result.tasks_total
    return 0 if ok and result.ledger_ok is not False else 1


def _show(obj: dict[str, Any]) -> None:
    say("")
    say(f"π ≈ {obj['pi']:.6f}  ({obj['tasks_done']} tasks on the {obj['executor']} executor)")
    rows = []
    for name, ucpt in obj["balances"].items():
        role = "submitter" if name == SUBMITTER else "contributor"
        earned = obj["earned"].get(name)
        rows.append((name, role, cpt(ucpt), cpt(earned) if earned is not None else ""))
    print_table("balances", ["user", "role", "balance", "earned"], rows)
    say(f"job cost {cpt(obj['cost_ucpt'])}; refunded from escrow {cpt(obj['refunded_ucpt'])}")
    total, granted = obj["total_ucpt"], obj["total_granted_ucpt"]
    verdict = "conserved" if obj["conserved"] else "NOT CONSERVED"
    say(f"sum of balances {cpt(total)} = total granted {cpt(granted)}: {verdict}")
    if obj["ledger_ok"] is not None:
        say(f"server ledger audit: {'ok' if obj['ledger_ok'] else 'PROBLEMS'}")
    say(f"done in {obj['seconds']:.1f} s ({SUBMITTER} paid {', '.join(CONTRIBUTORS)})")
