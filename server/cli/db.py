"""`hivemind-server admin db status|upgrade|copy`: the database schema's revision, upgrading
it, and moving the data from SQLite to PostgreSQL.

The server and every other admin command upgrade the database by themselves when they open
it (server/store/migrate.py); these commands show where it stands and upgrade on request,
for an admin who wants to see (or do) it before starting the new version. `copy` is
server/store/copy.py; this module only draws its progress and says what to do next.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from server.cli.settings import CliError, load_settings
from server.store import migrate
from server.store.copy import CopyError, CopyProgress, copy_sqlite_to_postgres, describe
from server.store.db import Database


def add_db_parser(admin_commands: Any, common: argparse.ArgumentParser) -> None:
    """Registers `admin db ...` under the `admin` subcommands (server/cli/main.py)."""
    group = admin_commands.add_parser("db", help="the database schema: revision and upgrade")
    sub = group.add_subparsers(dest="db_command", required=True)
    sub.add_parser(
        "status",
        parents=[common],
        help="current revision, head, pending upgrades (exit 1 if newer than this server)",
    ).set_defaults(handler=cmd_db_status)
    sub.add_parser(
        "upgrade",
        parents=[common],
        help="upgrade to this server's revision now (SQLite: a backup is made first)",
    ).set_defaults(handler=cmd_db_upgrade)
    copy = sub.add_parser(
        "copy",
        parents=[common],
        help="copy the data dir's SQLite database into an empty PostgreSQL database"
        " (stop the server first)",
        description="Copies every table of the data dir's SQLite database into an empty"
        " PostgreSQL database, in one transaction, and verifies row counts and the ledger"
        " before committing. STOP THE SERVER FIRST: the copy refuses while another process"
        " has the SQLite file open, and holds it exclusively while it runs. Afterwards set"
        " database_url in server.toml; token.key and artifacts/ stay in the data dir.",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the target: postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE (empty)",
    )
    copy.set_defaults(handler=cmd_db_copy)


def _open_existing(args: argparse.Namespace) -> tuple[Database, str]:
    settings = load_settings(args)
    url = settings.database_url or None
    if url is None and not (Path(settings.data_dir) / "hivemind.db").exists():
        raise CliError(f"no HiveMind data in {settings.data_dir} (check --data-dir)")
    db = Database.for_data_dir(settings.data_dir, url)
    return db, make_url(db.url).render_as_string(hide_password=True)


def _revision_text(found: migrate.SchemaStatus) -> str:
    if found.current is None:
        return "none (empty database)"
    if not found.stamped:
        return f"{found.current} (made before migrations; not stamped yet)"
    return found.current


def cmd_db_status(args: argparse.Namespace) -> int:
    db, shown = _open_existing(args)
    try:
        found = migrate.status(db)
    except migrate.SchemaError as error:
        raise CliError(str(error)) from None
    finally:
        db.close()
    advice = {
        "current": "up to date",
        "empty": "empty: the server creates the tables at start",
        "pending": "upgrade pending: runs at the next start, or now with `admin db upgrade`",
        "newer": "newer than this server: upgrade hivemind-server (this one refuses to start)",
    }[found.state]
    if args.json:
        pending = [{"revision": r.revision, "description": r.description} for r in found.pending]
        result = {
            "database": shown,
            "state": found.state,
            "current": found.current,
            "stamped": found.stamped,
            "head": found.head,
            "pending": pending,
        }
        print(json.dumps(result, sort_keys=True))
    else:
        lines = [
            f"database: {shown}",
            f"revision: {_revision_text(found)}",
            f"head:     {found.head}",
            *(f"pending:  {r.revision} {r.description}" for r in found.pending),
            advice,
        ]
        print("\n".join(lines))
    return 1 if found.state == "newer" else 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db, shown = _open_existing(args)
    try:
        done = migrate.upgrade(db)
    except migrate.SchemaError as error:
        raise CliError(str(error)) from None
    finally:
        db.close()
    if done.from_revision is None:
        human = f"created the tables at revision {done.to_revision}"
    elif done.from_revision != done.to_revision:
        human = f"upgraded {shown} from revision {done.from_revision} to {done.to_revision}"
    elif done.stamped_legacy:
        human = f"stamped {shown} at revision {done.to_revision} (made before migrations)"
    else:
        human = f"{shown} is already at revision {done.to_revision}; nothing to do"
    if done.backup is not None:
        human += f"\nbackup of the database before the upgrade: {done.backup}"
    if args.json:
        result = {
            "database": shown,
            "from": done.from_revision,
            "to": done.to_revision,
            "changed": done.changed,
            "stamped_legacy": done.stamped_legacy,
            "backup": str(done.backup) if done.backup else None,
        }
        print(json.dumps(result, sort_keys=True))
    else:
        print(human)
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    source = Path(settings.data_dir) / "hivemind.db"
    if not source.is_file():
        raise CliError(f"no SQLite database in {settings.data_dir} (check --data-dir)")
    with _copy_progress(args) as progress:
        try:
            report = copy_sqlite_to_postgres(
                source, args.to, ledger_audit=_ledger_problems, progress=progress
            )
        except CopyError as error:
            raise CliError(str(error)) from None
    config = Path(settings.data_dir) / "server.toml"
    if args.json:
        result = {
            **describe(report),
            "source": str(source),
            "next": {"config": str(config), "database_url": report.target},
        }
        print(json.dumps(result, sort_keys=True))
        return 0
    print(
        "\n".join(
            [
                f"copied {len(report.tables)} tables, {report.rows} rows in"
                f" {report.seconds:.1f} s to {report.target} (revision {report.revision});"
                " row counts and the ledger audit match",
                f"next: set database_url in {config} (your password in place of ***):",
                "  [server]",
                f'  database_url = "{report.target}"',
                f"keep token.key and artifacts/ in {settings.data_dir}: they are not in the"
                " database (sessions and files need them)",
                "then start the server and run `hivemind-server admin check-ledger"
                f" --data-dir {settings.data_dir}`; {source.name} is left as it was",
            ]
        )
    )
    return 0


def _ledger_problems(conn: Any) -> list[str]:
    from server.ledger import audit  # the ledger audit of `admin check-ledger`

    return audit.check_ledger(conn).problems


class _TableLines:
    """One line per table copied, for a log or a pipe."""

    def table_started(self, table: str, rows: int) -> None:
        pass

    def rows_copied(self, table: str, rows: int) -> None:
        pass

    def table_finished(self, table: str, rows: int) -> None:
        print(f"copied {table}: {rows} rows", flush=True)


class _TableBars:
    """A rich progress bar per table, on a terminal."""

    def __init__(self, bars: Any) -> None:
        self.bars = bars
        self.current: Any = None

    def table_started(self, table: str, rows: int) -> None:
        self.current = self.bars.add_task(table, total=rows)

    def rows_copied(self, table: str, rows: int) -> None:
        self.bars.advance(self.current, rows)

    def table_finished(self, table: str, rows: int) -> None:
        self.bars.update(self.current, completed=rows)


@contextmanager
def _copy_progress(args: argparse.Namespace) -> Iterator[CopyProgress | None]:
    """Bars on a terminal, lines otherwise, nothing with --json (one JSON object only)."""
    if args.json:
        yield None
        return
    if not sys.stdout.isatty():
        yield _TableLines()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description:24}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns) as bars:
        yield _TableBars(bars)
