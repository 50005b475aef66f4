"""Arguments every `hivemind` command shares, and opening a session from them.

parser = sub.add_parser("balance", parents=[common_arguments()], help=...)
...
async with open_session(args) as session: ...
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.output import CommandError
from app.services.client.channel import parse_server_addresses
from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.settings import SettingsStore, default_home


def common_arguments() -> argparse.ArgumentParser:
    """A parent parser with --server, --json and --home (pass as `parents=[...]`)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--server",
        metavar="HOST:PORT",
        help="the HiveMind server (default: from settings, 127.0.0.1:50051); replicas of one"
        " server as HOST:PORT,HOST:PORT,... (tried in turn)",
    )
    parent.add_argument(
        "--json", action="store_true", help="print exactly one JSON object on stdout"
    )
    parent.add_argument(
        "--home",
        metavar="DIR",
        type=Path,
        help="where settings and credentials live (default: $HIVEMIND_HOME or the config dir)",
    )
    return parent


def home_of(args: Any) -> Path:
    home = getattr(args, "home", None)
    return Path(home).expanduser() if home else default_home()


def open_settings(args: Any) -> SettingsStore:
    try:
        return SettingsStore(home_of(args))
    except ValueError as exc:
        raise CommandError(str(exc), "BAD_SETTINGS") from None


def server_of(args: Any, settings: SettingsStore) -> str:
    """The server named by --server, else the one in settings; validated."""
    server = getattr(args, "server", None) or settings.settings.server
    try:
        parse_server_addresses(server)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return server


def open_session(args: Any, **options: Any) -> ClientSession:
    """A session for this command: `async with open_session(args) as session:`."""
    settings = open_settings(args)
    server = server_of(args, settings)
    credentials = CredentialStore(settings.home)
    return ClientSession(settings, credentials, server=server, **options)
