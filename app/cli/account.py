"""`hivemind account ...`: register, log in and out, and the CPT ledger as one user sees it.

Passwords never travel as arguments (they would sit in shell history and `ps`): they come
from `--password-stdin` or an interactive prompt.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid
from typing import Any

from app.cli.common import common_arguments, open_session, open_settings, server_of
from app.cli.output import (
    CommandError,
    command,
    cpt,
    emit,
    money,
    print_table,
    say,
    timestamp,
)
from app.services.client.session import ClientError, ClientSession
from app.services.time_zone import local_time_zone
from common.units import parse_cpt
from proto.hivemind.v1 import account_pb2, common_pb2

HISTORY_PAGE = 100


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("account", help="register, log in, balance, transfers")
    sub = parser.add_subparsers(dest="account_command", metavar="ACTION", required=True)
    common = common_arguments()

    for name, handler, text in (
        ("register", register, "create an account on the server (and log in)"),
        ("login", login, "log in to the server"),
    ):
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        p.add_argument("--username", "-u", help="your user name (prompted when omitted)")
        p.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin",
        )
        p.set_defaults(handler=handler)

    p = sub.add_parser("logout", parents=[common], help="log out and forget the credentials")
    p.set_defaults(handler=logout)
    p = sub.add_parser("whoami", parents=[common], help="show who you are logged in as")
    p.set_defaults(handler=whoami)
    p = sub.add_parser("balance", parents=[common], help="show your CPT and starter credit")
    p.set_defaults(handler=balance)

    p = sub.add_parser("history", parents=[common], help="list your ledger entries, newest first")
    p.add_argument("--limit", type=int, default=20, help="how many entries (default 20)")
    p.set_defaults(handler=history)

    p = sub.add_parser("transfer", parents=[common], help="send CPT to another user")
    p.add_argument("--to", required=True, metavar="USER", help="who receives the CPT")
    p.add_argument("--amount", required=True, metavar="CPT", help="how much, e.g. 1.5")
    p.add_argument("--memo", default="", help="a note the receiver sees")
    p.set_defaults(handler=transfer)

    p = sub.add_parser("earnings", parents=[common], help="what your nodes earned")
    p.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    p.add_argument(
        "--time-zone",
        default=None,
        metavar="ZONE",
        help="days run midnight to midnight in this IANA zone (default: this computer's)",
    )
    p.set_defaults(handler=earnings)


# -- credentials ----------------------------------------------------------------------------


def read_username(args: Any) -> str:
    if args.username:
        return args.username.strip()
    if sys.stdin.isatty() and not args.password_stdin:
        name = input("Username: ").strip()
        if name:
            return name
    raise CommandError("no username given: use --username NAME")


def read_password(args: Any, confirm: bool) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin: stdin gave no password")
        return password
    if not sys.stdin.isatty():
        raise CommandError(
            "no password: pipe it with --password-stdin (passwords are never taken as arguments)"
        )
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat password: ") != password:
        raise CommandError("the two passwords differ; nothing was changed")
    if not password:
        raise CommandError("empty password")
    return password


def user_fields(user: common_pb2.User, server: str) -> dict[str, Any]:
    return {
        "username": user.username,
        "user_id": user.user_id,
        "is_admin": user.is_admin,
        "server": server,
        "created_at": user.created_at,
    }


async def _sign_in(args: Any, creating: bool) -> int:
    settings = open_settings(args)
    server = server_of(args, settings)
    username = read_username(args)
    password = read_password(args, confirm=creating)
    async with open_session(args) as session:
        if creating:
            user = await session.register(username, password)
        else:
            user = await session.login(username, password)
        try:
            held = await session.account.GetBalance(account_pb2.GetBalanceRequest())
        except ClientError:
            held = None  # signed in all the same; the balance is only a courtesy here
    # The server you log in to becomes the default, so later commands need no --server.
    made_default = settings.settings.server != server
    if made_default:
        settings.update(server=server)
    result = user_fields(user, server)
    if held is not None:
        result.update(money("balance", held.balance_ucpt))
        result.update(money("starter", held.starter_ucpt))

    def human(obj: dict[str, Any]) -> None:
        verb = "registered and logged in" if creating else "logged in"
        shown = ""
        if held is not None:
            shown = f"; balance {cpt(held.balance_ucpt)}"
            if held.starter_ucpt:
                shown += f", starter credit {cpt(held.starter_ucpt)}"
        say(f"{verb} as {user.username} on {server}{shown}")
        if made_default:
            say(f"{server} is now your default server")

    emit(args, result, human)
    return 0


@command
async def register(args: Any) -> int:
    return await _sign_in(args, creating=True)


@command
async def login(args: Any) -> int:
    return await _sign_in(args, creating=False)


@command
async def logout(args: Any) -> int:
    async with open_session(args) as session:
        told = await session.logout()
        server = session.server
    result = {"logged_out": True, "server": server, "server_told": told}

    def human(obj: dict[str, Any]) -> None:
        if told:
            say(f"logged out of {server}")
        else:
            say(f"forgot the credentials for {server} (the server could not be told)")

    emit(args, result, human)
    return 0


@command
async def whoami(args: Any) -> int:
    async with open_session(args) as session:
        user = await session.whoami()
        result = user_fields(user, session.server)
    role = " (admin)" if user.is_admin else ""
    emit(args, result, lambda obj: say(f"{user.username}{role} on {obj['server']}"))
    return 0


@command
async def balance(args: Any) -> int:
    async with open_session(args) as session:
        held = await session.account.GetBalance(account_pb2.GetBalanceRequest())
    result = {
        **money("balance", held.balance_ucpt),
        **money("starter", held.starter_ucpt),
        **money("escrow", held.escrow_ucpt),
        **money("starter_escrow", held.starter_escrow_ucpt),
    }

    def human(obj: dict[str, Any]) -> None:
        say(f"balance: {cpt(held.balance_ucpt)}")
        if held.starter_ucpt or held.starter_escrow_ucpt:
            say(
                f"starter credit: {cpt(held.starter_ucpt)} (pays only for your own jobs, which"
                " then run on capacity no paid job wants; it cannot be sent)"
            )
        if held.escrow_ucpt:
            of_it = (
                f" ({cpt(held.starter_escrow_ucpt)} of it starter credit)"
                if held.starter_escrow_ucpt
                else ""
            )
            say(f"held for your unfinished jobs: {cpt(held.escrow_ucpt)}{of_it}")

    emit(args, result, human)
    return 0


def entry_fields(entry: account_pb2.LedgerEntry) -> dict[str, Any]:
    return {
        "tx_id": entry.tx_id,
        "reason": entry.reason,
        **money("amount", entry.amount_ucpt),
        **money("balance_after", entry.balance_after_ucpt),
        "counterparty": entry.counterparty,
        "memo": entry.memo,
        "created_at": entry.created_at,
        "job_id": entry.job_id,
        "attempt_id": entry.attempt_id,
        "account": entry.account or "cpt",  # which balance: "cpt" or "starter"
    }


async def fetch_history(session: ClientSession, limit: int) -> list[account_pb2.LedgerEntry]:
    entries: list[account_pb2.LedgerEntry] = []
    token = ""
    while len(entries) < limit:
        page = common_pb2.PageRequest(page_size=min(HISTORY_PAGE, limit - len(entries)))
        page.page_token = token
        response = await session.account.ListHistory(account_pb2.ListHistoryRequest(page=page))
        entries.extend(response.entries)
        token = response.next_page_token
        if not token or not response.entries:
            break
    return entries[:limit]


@command
async def history(args: Any) -> int:
    if not 1 <= args.limit <= 10_000:
        raise CommandError(f"--limit must be between 1 and 10000, not {args.limit}")
    async with open_session(args) as session:
        entries = await fetch_history(session, args.limit)
    result = {"entries": [entry_fields(e) for e in entries]}

    def human(obj: dict[str, Any]) -> None:
        if not entries:
            say("no ledger entries yet")
            return
        rows = [
            (
                timestamp(e.created_at),
                e.reason,
                "starter credit" if e.account == "starter" else "CPT",
                f"{'+' if e.amount_ucpt > 0 else ''}{cpt(e.amount_ucpt)}",
                cpt(e.balance_after_ucpt),
                e.counterparty,
                e.memo,
            )
            for e in entries
        ]
        columns = ["When", "Reason", "Of", "Amount", "Balance after", "With", "Memo"]
        print_table(None, columns, rows)

    emit(args, result, human)
    return 0


def parse_amount(text: str) -> int:
    """CPT text -> ucpt, > 0, or a CommandError saying what is wrong."""
    try:
        ucpt = parse_cpt(text)
    except ValueError as exc:
        raise CommandError(f"--amount: {exc}") from None
    if ucpt <= 0:
        raise CommandError(f"--amount must be more than 0, not {text}")
    return ucpt


@command
async def transfer(args: Any) -> int:
    amount = parse_amount(args.amount)
    receiver = args.to.strip()
    if not receiver:
        raise CommandError("--to needs a user name")
    # One key per invocation: a retry inside this command cannot move the amount twice.
    request = account_pb2.TransferRequest(
        to_username=receiver,
        amount_ucpt=amount,
        idempotency_key=f"cli-transfer:{uuid.uuid4()}",
        memo=args.memo,
    )
    async with open_session(args) as session:
        response = await session.account.Transfer(request)
    result = {
        "tx_id": response.tx_id,
        "to": receiver,
        **money("amount", amount),
        **money("balance", response.balance_ucpt),
    }
    emit(
        args,
        result,
        lambda obj: say(
            f"sent {cpt(amount)} to {receiver}; your balance is {cpt(response.balance_ucpt)}"
        ),
    )
    return 0


@command
async def earnings(args: Any) -> int:
    if not 1 <= args.days <= 366:
        raise CommandError(f"--days must be between 1 and 366, not {args.days}")
    zone = local_time_zone() if args.time_zone is None else args.time_zone
    async with open_session(args) as session:
        response = await session.account.GetEarnings(
            account_pb2.GetEarningsRequest(days=args.days, time_zone=zone)
        )
    result = {
        "time_zone": response.time_zone,
        **money("today", response.today_ucpt),
        **money("week", response.week_ucpt),
        **money("month", response.month_ucpt),
        "days": [
            {"day": d.day, **money("amount", d.amount_ucpt), "payouts": d.payouts}
            for d in response.days
        ],
        "payouts": [
            {
                "tx_id": p.tx_id,
                "job_id": p.job_id,
                "attempt_id": p.attempt_id,
                "node_id": p.node_id,
                "core_ms": p.core_ms,
                **money("base", p.base_ucpt),
                **money("bonus", p.bonus_ucpt),
                **money("amount", p.amount_ucpt),
                "created_at": p.created_at,
            }
            for p in response.payouts
        ],
    }

    def human(obj: dict[str, Any]) -> None:
        say(
            f"today {cpt(response.today_ucpt)} · 7 days {cpt(response.week_ucpt)} · "
            f"30 days {cpt(response.month_ucpt)} (days in {response.time_zone or 'UTC'})"
        )
        active = [d for d in response.days if d.amount_ucpt or d.payouts]
        if active:
            rows = [(d.day, cpt(d.amount_ucpt), d.payouts) for d in active]
            print_table(None, ["Day", "Earned", "Payouts"], rows)
        else:
            say(f"no payouts in the last {args.days} days")

    emit(args, result, human)
    return 0
