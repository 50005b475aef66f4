"""`hivemind-server` as an admin runs it: a real subprocess (`python -m server ...`) on a data
dir, for the admin CLI tests and every test that sets up a server the way an admin does.

    created = admin_json(data_dir, "create-user", "root", "--admin", "--password-stdin",
                         stdin="a password")
    assert "taken" in admin_fails(data_dir, "create-user", "ROOT", ...)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def hivemind_server(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Runs `hivemind-server <args>` to its end and returns what it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )


def admin_json(data_dir: Path, *args: str, stdin: str = "") -> dict:
    """`hivemind-server admin <args> --json` on `data_dir`: must succeed and print exactly one
    JSON object, which is returned."""
    done = hivemind_server("admin", *args, "--data-dir", str(data_dir), "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()  # exactly one JSON object
    return json.loads(line)


def admin_fails(data_dir: Path, *args: str, stdin: str = "") -> str:
    """`hivemind-server admin <args>` on `data_dir`: must exit with 1, print nothing on stdout
    and one clear line on stderr, which is returned."""
    done = hivemind_server("admin", *args, "--data-dir", str(data_dir), stdin=stdin)
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()  # one clear line
    return line
