"""`hivemind-server` as an admin runs it: a real subprocess (`python -m server ...`) run to its
end, for the admin CLI tests and every test that sets up a server the way an admin does.

    created = admin_json(data_dir, "create-user", "root", "--admin", "--password-stdin",
                         stdin="a password")
    assert "taken" in admin_fails(data_dir, "create-user", "ROOT", ...)

From an async test, run it off the event loop: `await asyncio.to_thread(server_cli, ...)`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.kit.paths import REPO_ROOT
from tests.kit.servers import server_env


def server_cli(
    *args: str, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs `hivemind-server <args>` to its end and returns what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=server_env(),
        timeout=timeout,
    )


def admin_json(data_dir: Path, *args: str, stdin: str = "") -> dict:
    """`hivemind-server admin <args> --json` on `data_dir`: must succeed and print exactly one
    JSON object, which is returned."""
    done = server_cli("admin", *args, "--data-dir", str(data_dir), "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()  # exactly one JSON object
    return json.loads(line)


def admin_fails(data_dir: Path, *args: str, stdin: str = "") -> str:
    """`hivemind-server admin <args>` on `data_dir`: must exit with 1, print nothing on stdout
    and one clear line on stderr, which is returned."""
    done = server_cli("admin", *args, "--data-dir", str(data_dir), stdin=stdin)
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()  # one clear line
    return line
