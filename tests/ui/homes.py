"""A user's HiveMind home as the desktop app finds it after setup: the user registered with the
real CLI, and a settings file naming the server under test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.kit.accounts import PASSWORD
from tests.kit.client_cli import hivemind_cli
from tests.kit.servers import ServerProcess


def register(home: Path, server: ServerProcess, username: str) -> Any:
    """Registers `username` with the CLI; `home` then holds that user's login."""
    return hivemind_cli(
        home,
        "account",
        "register",
        "--username",
        username,
        "--password-stdin",
        "--server",
        server.address,
        stdin=PASSWORD + "\n",
    )


def write_settings(home: Path, server: ServerProcess, **contributor: Any) -> None:
    """A settings file as the user would have after setup (so no first-run wizard): this
    server, the process executor (no Docker needed for UI tests), and `contributor` values."""
    home.mkdir(parents=True, exist_ok=True)
    settings = {
        "server": server.address,
        "language": "en",
        "contributor": {"executor": "process", "sharing": False, **contributor},
    }
    (home / "settings.json").write_text(json.dumps(settings))
