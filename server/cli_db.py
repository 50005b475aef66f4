"""`hivemind-server admin db status|upgrade`: the database schema's revision, and upgrading it.

The server and every other admin command upgrade the database by themselves when they open
it (server/store/migrate.py); these commands show where it stands and upgrade on request,
for an admin who wants to see (or do) it before starting the new version.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from server.cli_common import CliError, load_settings
from server.store import migrate
from server.store.db import Database


def add_db_parser(admin_commands: Any, common: argparse.ArgumentParser) -> None:
    """Registers `admin db ...` under the `admin` subcommands (server/cli.py)."""
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
