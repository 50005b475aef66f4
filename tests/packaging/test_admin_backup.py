"""docs/ADMIN.md's backup procedure, followed for real: an online SQLite backup of a running
server's database, restored into a fresh data directory, keeps every user and every CPT."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from tests.kit.admin import admin_json
from tests.kit.servers import ServerProcess


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
    server = ServerProcess(
        ["run", "--data-dir", str(live), "--listen", "127.0.0.1:0"], tmp_path / "server.log"
    )
    try:
        server.start_blocking()
        admin_json(
            live, "create-user", "alice", "--admin", "--password-stdin", stdin="a-long-pw-1\n"
        )
        admin_json(live, "grant", "alice", "2.5")
        before = admin_json(live, "list-users")

        restored = tmp_path / "restored"
        restored.mkdir()
        online_backup(live / "hivemind.db", restored / "hivemind.db")  # server still running
        if (live / "artifacts").exists():
            shutil.copytree(live / "artifacts", restored / "artifacts")
    finally:
        server.stop_blocking(timeout=20)

    assert admin_json(restored, "list-users") == before
    check = admin_json(restored, "check-ledger")
    assert check["ok"] is True and check["problems"] == [], check
    alice = next(u for u in before["users"] if u["username"] == "alice")
    # The 2.5 CPT granted just before the backup, and the sign-up grant as starter credit.
    assert alice["balance"]["ucpt"] == 2_500_000
    assert check["total_granted"]["ucpt"] == 2_500_000 + check["starter_credit"]["ucpt"]
