"""`hivemind-server` (also `python -m server`): run the server, or administer its data dir.

Admin commands work directly on the data directory's database (SQLite WAL lets them run
while the server runs). Errors print one line on stderr and exit 1 with nothing changed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from common.units import format_ucpt, parse_cpt
from server.accounts import users
from server.accounts.passwords import hash_password
from server.cli.collector import pace_full_collections
from server.cli.db import add_db_parser
from server.cli.settings import CliError, load_settings, setup_logging
from server.config import ServerSettings
from server.errors import DomainError
from server.jobs import queries
from server.jobs.access import Caller
from server.ledger import audit, clawbacks, transfers
from server.ledger import journal as ledger
from server.ledger.starter import starter_balance
from server.nodes import listing
from server.nodes import stats as network
from server.runtimes import approved as runtimes
from server.store.db import Database
from server.store.invalidation import NODE, USER, announce_from_outside
from server.store.migrate import SchemaError
from server.validation import bans

log = logging.getLogger("hivemind.server")


async def serve(settings: ServerSettings) -> int:
    from server.app import HiveMindServer

    try:
        server = HiveMindServer(settings)
        await server.start()
    except (OSError, ValueError) as error:
        raise CliError(str(error)) from None
    print(f"HiveMind server listening on {server.address} (data: {settings.data_dir})", flush=True)
    if server.http_url:
        print(f"HiveMind dashboard on {server.http_url}/ (metrics: /metrics)", flush=True)
    collector = asyncio.create_task(pace_full_collections())
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop_requested.set)
        except (NotImplementedError, RuntimeError):
            # Windows has no loop signal handlers: a plain handler hops onto the loop.
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop_requested.set))
    await stop_requested.wait()
    log.info("stopping (signal received)")
    await server.stop(grace=5.0)
    collector.cancel()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(
        args,
        listen=args.listen,
        tls_cert_file=args.tls_cert,
        tls_key_file=args.tls_key,
        insecure=True if args.insecure else None,
        bittorrent=False if args.no_bittorrent else None,
        http_listen=args.http,
    )
    return asyncio.run(serve(settings))


# Admin commands -------------------------------------------------------------------------


def _amount(ucpt: int) -> dict[str, Any]:
    return {"ucpt": ucpt, "cpt": format_ucpt(ucpt)}


def _open_database(args: argparse.Namespace, create: bool = False) -> Database:
    settings = load_settings(args)
    url = settings.database_url or None
    if url is None and not create and not (Path(settings.data_dir) / "hivemind.db").exists():
        raise CliError(
            f"no HiveMind data in {settings.data_dir} (check --data-dir; `admin create-user`"
            " or `run` creates it)"
        )
    db = Database.for_data_dir(settings.data_dir, url)
    db.create_schema()
    db.transaction_sync(runtimes.ensure_default_runtime)
    return db


def _with_database(args: argparse.Namespace, fn: Any, *fn_args: Any, create: bool = False) -> Any:
    """Runs fn(conn, *fn_args) in one transaction: a domain error rolls everything back."""
    db = _open_database(args, create=create)
    try:
        return db.transaction_sync(fn, *fn_args)
    except DomainError as error:
        raise CliError(str(error)) from None
    finally:
        db.close()


def _announce(args: argparse.Namespace, topic: str, key: str) -> None:
    """Running replicas drop what they cached of `key` (when they share a Redis)."""
    settings = load_settings(args)
    announce_from_outside(settings.redis_url, settings.redis_namespace, topic, key)


def _emit(args: argparse.Namespace, result: dict[str, Any], human: str) -> int:
    print(json.dumps(result, sort_keys=True) if args.json else human)
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CliError("the passwords differ")
    else:
        raise CliError("no password: pass it on stdin with --password-stdin")
    try:
        return users.validate_password(password)
    except DomainError as error:
        raise CliError(str(error)) from None


def _user_json(user: users.UserRecord) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "username": user.username,
        "is_admin": user.is_admin,
        "created_at": int(user.created_at),
    }


def cmd_create_user(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    try:
        username = users.validate_username(args.name)
    except DomainError as error:
        raise CliError(str(error)) from None
    password_hash = hash_password(_read_password(args))

    def create(conn: Any) -> tuple[users.UserRecord, int, int]:
        user = users.insert_user(
            conn,
            username,
            password_hash,
            is_admin=args.admin,
            signup_grant_ucpt=settings.signup_grant_ucpt,
        )
        cpt = ledger.balance(conn, ledger.user_account_id(conn, user.user_id))
        return user, cpt, starter_balance(conn, user.user_id)

    user, balance, starter = _with_database(args, create, create=True)
    role = "admin" if user.is_admin else "user"
    return _emit(
        args,
        {"user": _user_json(user), "balance": _amount(balance), "starter": _amount(starter)},
        f"created {role} {user.username} ({user.user_id}), balance {format_ucpt(balance)} CPT,"
        f" starter credit {format_ucpt(starter)} CPT",
    )


def cmd_grant(args: argparse.Namespace) -> int:
    try:
        amount = parse_cpt(args.amount)
    except ValueError as error:
        raise CliError(str(error)) from None
    moved = _with_database(
        args,
        lambda conn: transfers.admin_grant(
            conn,
            users.find_user(conn, args.name).user_id,
            amount,
            idempotency_key=args.idempotency_key or "",
            memo=args.memo,
        ),
    )
    note = "" if moved.created else " (already granted with this key; nothing moved)"
    return _emit(
        args,
        {
            "tx_id": moved.tx_id,
            "username": args.name,
            "amount": _amount(amount),
            "balance": _amount(moved.balance_ucpt),
            "created": moved.created,
        },
        f"granted {format_ucpt(amount)} CPT to {args.name}, balance now"
        f" {format_ucpt(moved.balance_ucpt)} CPT (tx {moved.tx_id}){note}",
    )


def cmd_list_users(args: argparse.Namespace) -> int:
    rows = _with_database(args, users.list_users, 0, 1_000_000)
    listed = [{**_user_json(u), "balance": _amount(b)} for u, b in rows]
    lines = [f"{'USER':32} {'ADMIN':5} {'BALANCE (CPT)':>18}"]
    lines += [
        f"{u.username:32} {'yes' if u.is_admin else '':5} {format_ucpt(b):>18}" for u, b in rows
    ]
    return _emit(args, {"users": listed}, "\n".join(lines))


def cmd_set_admin(args: argparse.Namespace) -> int:
    user = _with_database(args, users.set_admin, args.name, not args.off)
    _announce(args, USER, user.user_id)
    state = "is now an admin" if user.is_admin else "is no longer an admin"
    return _emit(args, {"user": _user_json(user)}, f"{user.username} {state}")


def cmd_ban_user(args: argparse.Namespace) -> int:
    banned = args.admin_command == "ban-user"
    reason = getattr(args, "reason", "")
    user = _with_database(args, users.set_banned, args.name, banned, reason)
    _announce(args, USER, user.user_id)
    result = {"user": {**_user_json(user), "banned": user.banned, "ban_reason": user.ban_reason}}
    if banned:
        human = (
            f"{user.username} is banned: every session is revoked (running servers refuse"
            " their tokens within seconds), logins and their nodes are refused"
        )
    else:
        human = f"{user.username} is no longer banned and may log in again"
    return _emit(args, result, human)


def cmd_check_ledger(args: argparse.Namespace) -> int:
    report = _with_database(args, audit.check_ledger)
    result = {
        "ok": report.ok,
        "problems": report.problems,
        "total_granted": _amount(report.total_granted_ucpt),
        "total_in_accounts": _amount(report.total_in_accounts_ucpt),
        "starter_credit": _amount(report.total_starter_ucpt),
    }
    human = "\n".join(
        [
            f"total granted:     {format_ucpt(report.total_granted_ucpt)} CPT",
            f"sum of accounts:   {format_ucpt(report.total_in_accounts_ucpt)} CPT",
            f"  starter credit:  {format_ucpt(report.total_starter_ucpt)} CPT",
            *(f"PROBLEM: {p}" for p in report.problems),
            "ledger OK" if report.ok else "ledger has problems",
        ]
    )
    _emit(args, result, human)
    return 0 if report.ok else 1


def cmd_list_nodes(args: argparse.Namespace) -> int:
    found = _with_database(args, listing.list_nodes)
    listed = [_node_json(node) for node in found]
    lines = [
        f"{'NODE':26} {'NAME':20} {'OWNER':16} {'STATE':11} {'RUNNING':>7} {'CORES':>5}"
        f" {'ERRORS':>6}"
    ]
    now = time.time()
    for n in found:
        state = n.state
        if not n.banned and n.quarantined_until > now:
            state = "quarantined"
        lines.append(
            f"{n.node_id:26} {n.name[:20]:20} {n.owner[:16]:16} {state:11} {n.running:>7}"
            f" {n.cores:>5} {n.error_rate:>6.0%}"
        )
        if state == "quarantined":
            lines.append(f"{'':26} {n.quarantine_reason}")
    return _emit(args, {"nodes": listed}, "\n".join(lines))


def cmd_missing_artifacts(args: argparse.Namespace) -> int:
    """The artifacts the database records that this data dir lacks: a replica about to be
    removed is safe to remove once the others lack none (docs/ADMIN.md, "Scale-out")."""
    from server.jobs.artifacts import artifact_path, known_artifacts

    root = load_settings(args).artifacts_dir
    known = _with_database(args, known_artifacts)
    missing = [(d, size) for d, size in known if not artifact_path(root, d).is_file()]
    lines = [f"{len(missing)} of {len(known)} artifacts are not in {root}"]
    lines += [f"{digest} {size}" for digest, size in missing]
    result = {
        "artifacts": len(known),
        "missing": [{"digest": digest, "size": size} for digest, size in missing],
    }
    _emit(args, result, "\n".join(lines))
    return 1 if missing else 0


def _node_json(node: listing.NodeView) -> dict[str, Any]:
    return {
        **dataclasses.asdict(node),
        "state": node.state,
        "error_rate": round(node.error_rate, 4),
    }


def cmd_ban_node(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    ban = _with_database(args, bans.ban_node, args.node_id, args.reason, None, settings)
    node = ban.node
    _announce(args, NODE, node.node_id)
    return _emit(
        args,
        {"node": _node_json(node)},
        f"banned node {node.node_id} ({node.name}, owner {node.owner}): {node.ban_reason}"
        "\n(a running server refuses its credential within seconds and its leases at once)",
    )


def cmd_unban_node(args: argparse.Namespace) -> int:
    node = _with_database(args, bans.unban_node, args.node_id)
    _announce(args, NODE, node.node_id)
    return _emit(
        args,
        {"node": _node_json(node)},
        f"node {node.node_id} ({node.name}) may work again from its next heartbeat",
    )


def cmd_stats(args: argparse.Namespace) -> int:
    stats, state = _with_database(
        args, lambda conn: (network.network_stats(conn), network.network_state(conn))
    )
    result = {
        "users": stats.users,
        "nodes": state.nodes_by_state,
        "offered": {
            "cores": state.cores_offered,
            "memory_mb": state.memory_mb_offered,
            "gpus": state.gpus_offered,
        },
        "jobs": state.jobs_by_state,
        "tasks": state.tasks_by_state,
        "queue_depth": state.queue_depth,
        "total_granted": _amount(stats.total_granted_ucpt),
        "total_in_accounts": _amount(stats.total_in_accounts_ucpt),
        "escrow": _amount(stats.escrow_ucpt),
        "payouts": state.payouts,
        "paid": _amount(state.payouts_ucpt),
        "clawback_shortfall": _amount(state.clawback_shortfall_ucpt),
    }

    def counts(values: dict[str, int]) -> str:
        return ", ".join(f"{name} {count}" for name, count in values.items() if count) or "none"

    human = "\n".join(
        [
            f"users:          {stats.users}",
            f"nodes:          {counts(state.nodes_by_state)}",
            f"offered now:    {state.cores_offered} cores, {state.memory_mb_offered} MB memory,"
            f" {state.gpus_offered} GPUs",
            f"jobs:           {counts(state.jobs_by_state)}",
            f"tasks:          {counts(state.tasks_by_state)} (queue {state.queue_depth})",
            f"CPT granted:    {format_ucpt(stats.total_granted_ucpt)}"
            f" (in escrow {format_ucpt(stats.escrow_ucpt)})",
            f"paid for work:  {format_ucpt(state.payouts_ucpt)} CPT in {state.payouts} payouts",
            f"clawback short: {format_ucpt(state.clawback_shortfall_ucpt)} CPT",
        ]
    )
    return _emit(args, result, human)


def cmd_list_jobs(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError("--limit must be at least 1")
    admin = Caller(user_id="", is_admin=True)  # the admin CLI sees every job

    def read(conn: Any) -> list[Any]:
        found: list[Any] = []
        token = ""
        while len(found) < args.limit:
            page = queries.list_jobs(conn, admin, min(args.limit - len(found), 500), token, True)
            found += [
                job
                for job in page.jobs
                if (not args.user or job.owner.lower() == args.user.lower())
                and (not args.state or job.state == args.state)
            ]
            token = page.next_page_token
            if not token:
                break
        return found[: args.limit]

    found = _with_database(args, read)
    listed = [
        {
            "job_id": job.job_id,
            "name": job.name,
            "owner": job.owner,
            "state": job.state,
            "tasks_total": job.tasks_total,
            "tasks_done": job.tasks_done,
            "tasks_failed": job.tasks_failed,
            "tasks_running": job.tasks_running,
            "cost": _amount(job.cost_ucpt),
            "max_cost": _amount(job.max_cost_ucpt),
            "created_at": int(job.created_at),
        }
        for job in found
    ]
    lines = [f"{'JOB':26} {'NAME':24} {'OWNER':16} {'STATE':9} {'DONE':>11} {'COST (CPT)':>12}"]
    lines += [
        f"{job.job_id:26} {job.name[:24]:24} {job.owner[:16]:16} {job.state:9}"
        f" {f'{job.tasks_done}/{job.tasks_total}':>11} {format_ucpt(job.cost_ucpt):>12}"
        for job in found
    ]
    return _emit(args, {"jobs": listed}, "\n".join(lines))


def cmd_shortfalls(args: argparse.Namespace) -> int:
    found = _with_database(args, clawbacks.list_shortfalls)
    listed = [
        {
            "attempt_id": item.attempt_id,
            "job_id": item.job_id,
            "node_id": item.node_id,
            "username": item.username,
            "paid": _amount(item.paid_ucpt),
            "taken": _amount(item.taken_ucpt),
            "shortfall": _amount(item.shortfall_ucpt),
            "memo": item.memo,
            "created_at": int(item.created_at),
        }
        for item in found
    ]
    total = sum(item.shortfall_ucpt for item in found)
    lines = [f"{'OWNER':16} {'NODE':26} {'PAID':>12} {'TAKEN':>12} {'SHORT':>12}  JOB"]
    lines += [
        f"{item.username[:16]:16} {item.node_id:26} {format_ucpt(item.paid_ucpt):>12}"
        f" {format_ucpt(item.taken_ucpt):>12} {format_ucpt(item.shortfall_ucpt):>12}  {item.job_id}"
        for item in found
    ]
    lines.append(f"{len(found)} shortfalls, {format_ucpt(total)} CPT in all")
    return _emit(args, {"shortfalls": listed, "total": _amount(total)}, "\n".join(lines))


def cmd_runtime_add(args: argparse.Namespace) -> int:
    from server.jobs.artifacts import ArtifactStore
    from server.runtimes import archives as runtime_archives

    if args.image_archive and (args.image_id or args.archive_digest):
        raise CliError(
            "--image-id and --archive-digest go with --image (an archive names its image)"
        )
    settings = load_settings(args)
    db = _open_database(args)
    archive = None
    try:
        store = ArtifactStore(settings, db)
        if args.image_archive:
            runtime, archive = runtime_archives.add_runtime_from_archive(
                store, db, args.name, args.image_archive
            )
        else:
            runtime = runtime_archives.add_runtime_from_reference(
                store, db, args.name, args.image, args.image_id, args.archive_digest
            )
    except DomainError as error:
        raise CliError(str(error)) from None
    finally:
        db.close()
    pins = [f"image id {runtime.image_id}"] if runtime.image_id else []
    if archive is not None:
        pins.append(f"archive {archive.digest[:12]}… ({archive.size / 1024**2:.1f} MB)")
    elif runtime.archive_digest:
        pins.append(f"archive {runtime.archive_digest[:12]}…")
    suffix = f" ({', '.join(pins)})" if pins else ""
    return _emit(
        args,
        {"runtime": dataclasses.asdict(runtime)},
        f"runtime {runtime.name} -> {runtime.image}{suffix}",
    )


def cmd_runtime_list(args: argparse.Namespace) -> int:
    found = _with_database(args, runtimes.list_runtimes)
    lines = [f"{'RUNTIME':20} {'IMAGE':32} {'IMAGE ID':19} ARCHIVE"]
    lines += [
        f"{r.name:20} {r.image:32} {r.image_id[:19]:19} {r.archive_digest[:12]}".rstrip()
        for r in found
    ]
    return _emit(args, {"runtimes": [dataclasses.asdict(r) for r in found]}, "\n".join(lines))


def _add_admin_parser(commands: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", required=True, type=Path, help="the server's data dir")
    common.add_argument("--config", help="a TOML file with a [server] table of settings")
    common.add_argument("--json", action="store_true", help="print one JSON object")
    group = commands.add_parser(
        "admin", help="administer a data dir (all but `db copy` work while it runs)"
    )
    sub = group.add_subparsers(dest="admin_command", required=True)

    create = sub.add_parser("create-user", parents=[common], help="create a user")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true", help="with the admin role")
    create.add_argument("--password-stdin", action="store_true", help="read the password")
    create.set_defaults(handler=cmd_create_user)

    grant = sub.add_parser("grant", parents=[common], help="mint CPT into a user's account")
    grant.add_argument("name")
    grant.add_argument("amount", help="in CPT, e.g. 2.5")
    grant.add_argument("--memo", default="admin grant")
    grant.add_argument("--idempotency-key", help="the same key twice grants once")
    grant.set_defaults(handler=cmd_grant)

    sub.add_parser("list-users", parents=[common]).set_defaults(handler=cmd_list_users)
    set_admin = sub.add_parser("set-admin", parents=[common], help="give the admin role")
    set_admin.add_argument("name")
    set_admin.add_argument("--off", action="store_true", help="take the role away instead")
    set_admin.set_defaults(handler=cmd_set_admin)
    ban = sub.add_parser(
        "ban-user", parents=[common], help="revoke a user's sessions and refuse their logins"
    )
    ban.add_argument("name")
    ban.add_argument("--reason", default="", help="shown to the user when they are refused")
    ban.set_defaults(handler=cmd_ban_user)
    unban = sub.add_parser("unban-user", parents=[common], help="lift a user's ban")
    unban.add_argument("name")
    unban.set_defaults(handler=cmd_ban_user)
    sub.add_parser(
        "check-ledger", parents=[common], help="verify balances and totals (exit 1 if not)"
    ).set_defaults(handler=cmd_check_ledger)
    sub.add_parser(
        "list-nodes", parents=[common], help="every node: owner, state, trust, error rate"
    ).set_defaults(handler=cmd_list_nodes)
    ban = sub.add_parser(
        "ban-node",
        parents=[common],
        help="refuse a node: its leases go elsewhere, its unverified results are discarded",
    )
    ban.add_argument("node_id")
    ban.add_argument("--reason", default="", help="shown to the node's owner")
    ban.set_defaults(handler=cmd_ban_node)
    unban = sub.add_parser("unban-node", parents=[common], help="let a banned node work again")
    unban.add_argument("node_id")
    unban.set_defaults(handler=cmd_unban_node)
    sub.add_parser(
        "stats", parents=[common], help="the network at a glance: nodes, jobs, tasks, CPT"
    ).set_defaults(handler=cmd_stats)
    jobs = sub.add_parser("list-jobs", parents=[common], help="every user's jobs, newest first")
    jobs.add_argument("--user", help="only this user's jobs")
    jobs.add_argument(
        "--state", choices=["pending", "running", "done", "failed", "cancelled"], help="only these"
    )
    jobs.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    jobs.set_defaults(handler=cmd_list_jobs)
    sub.add_parser(
        "shortfalls",
        parents=[common],
        help="clawbacks that could not take back all a discarded result was paid",
    ).set_defaults(handler=cmd_shortfalls)
    sub.add_parser(
        "missing-artifacts",
        parents=[common],
        help="artifacts the database records that this data dir lacks (exit 1 if any)",
    ).set_defaults(handler=cmd_missing_artifacts)

    runtime = sub.add_parser("runtime", help="approved runtimes (images jobs may use)")
    runtime_sub = runtime.add_subparsers(dest="runtime_command", required=True)
    add = runtime_sub.add_parser(
        "add",
        parents=[common],
        help="add or re-pin a runtime",
        description="A runtime is pinned: a `docker save` file (stored as an artifact that"
        " workers fetch and `docker load`; no registry needed), or a reference by digest.",
    )
    add.add_argument("name")
    image = add.add_mutually_exclusive_group(required=True)
    image.add_argument(
        "--image-archive", type=Path, metavar="FILE", help="a `docker save` file of one image"
    )
    image.add_argument("--image", help="a reference pinned by digest: REPOSITORY@sha256:...")
    add.add_argument("--image-id", default="", help="with --image: pin by sha256:<image id>")
    add.add_argument(
        "--archive-digest", default="", help="with --image: a stored RUNTIME artifact of it"
    )
    add.set_defaults(handler=cmd_runtime_add)
    runtime_sub.add_parser("list", parents=[common]).set_defaults(handler=cmd_runtime_list)
    add_db_parser(sub, common)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hivemind-server", description="The HiveMind network server."
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the server")
    run.add_argument("--data-dir", required=True, type=Path, help="where the server keeps data")
    run.add_argument("--listen", help="HOST:PORT to listen on (port 0 picks a free one)")
    run.add_argument("--config", help="a TOML file with a [server] table of settings")
    run.add_argument("--tls-cert", help="PEM certificate chain (with --tls-key: serve TLS)")
    run.add_argument("--tls-key", help="PEM private key of the certificate")
    run.add_argument(
        "--insecure",
        action="store_true",
        help="allow plaintext on a non-loopback address (only behind a TLS proxy or on a"
        " trusted network)",
    )
    run.add_argument(
        "--no-bittorrent",
        action="store_true",
        help="no BitTorrent seeder: every artifact travels over gRPC (same as bittorrent = false)",
    )
    run.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="the web dashboard and /metrics: HOST:PORT, or off (default: auto, which is"
        " 127.0.0.1:50080 when that port is free)",
    )
    run.set_defaults(handler=cmd_run)
    _add_admin_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        return args.handler(args)
    except (CliError, SchemaError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
