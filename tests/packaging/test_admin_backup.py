"""docs/ADMIN.md's backup procedure, followed for real: an online SQLite backup of a running
server's database, restored into a fresh data directory, keeps every user and every CPT."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def admin(data_dir: Path, *args: str, stdin: str | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "server", "admin", *args, "--data-dir", str(data_dir), "--json"],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60, env=_clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HIVEMIND_SERVER_")}


def online_backup(database: Path, backup: Path) -> None:
    """The documented command: sqlite3's .backup, or Python's equivalent without the tool."""
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(database), f".backup '{backup}'"], check=True, timeout=60)
    else:
        source, dest = sqlite3.connect(database), sqlite3.connect(backup)
        with dest:
            source.backup(dest)
        source.close()
        dest.close()


def test_online_backup_of_a_running_server_restores_users_and_balances(tmp_path: Path) -> None:
    live = tmp_path / "live"
    server = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--data-dir", str(live), "--listen", "127.0.0.1:0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_clean_env(),
    )  # fmt: skip
    try:
        for line in server.stdout:
            if "listening on" in line:
                break
        else:
            raise AssertionError(f"the server exited {server.wait()} without listening")
        # Keep draining its log so a full pipe never blocks it.
        threading.Thread(target=server.stdout.read, daemon=True).start()
        admin(live, "create-user", "alice", "--admin", "--password-stdin", stdin="a-long-pw-1\n")
        admin(live, "grant", "alice", "2.5")
        before = admin(live, "list-users")

        restored = tmp_path / "restored"
        restored.mkdir()
        online_backup(live / "hivemind.db", restored / "hivemind.db")  # server still running
        if (live / "artifacts").exists():
            shutil.copytree(live / "artifacts", restored / "artifacts")
    finally:
        server.terminate()
        server.wait(timeout=20)

    assert admin(restored, "list-users") == before
    check = admin(restored, "check-ledger")
    assert check["ok"] is True and check["problems"] == [], check
    alice = next(u for u in before["users"] if u["username"] == "alice")
    # The 2.5 CPT granted just before the backup, and the sign-up grant as starter credit.
    assert alice["balance"]["ucpt"] == 2_500_000
    assert check["total_granted"]["ucpt"] == 2_500_000 + check["starter_credit"]["ucpt"]
