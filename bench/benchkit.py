"""What bench/soak.py needs around a real server: start one on loopback on a fresh data dir
(SQLite), stop it, read its database read-only as an auditor would, and run its own ledger
audit (`python -m server admin check-ledger --json`).

The gRPC clients themselves come from tests/kit (stubs.py: the calls; loopback_networks.py:
channels whose calls come from a chosen 127.x source address, so each simulated machine is
a network of its own as the server sees it).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NO_EXTRAS = ("--no-bittorrent", "--http", "off")  # no seeder, no dashboard


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", *args]


def start_server(data_dir: Path, settings: dict[str, Any]) -> tuple[subprocess.Popen, str]:
    """`python -m server run` on a free loopback port (no BitTorrent, no dashboard), with
    `settings` as HIVEMIND_SERVER_* variables; (the process, its address) once it answers."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for name, value in settings.items():
        env[f"HIVEMIND_SERVER_{name.upper()}"] = str(value)
    address = f"127.0.0.1:{free_port()}"
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        server_command("run", "--data-dir", str(data_dir), "--listen", address, *NO_EXTRAS),
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    channel = grpc.insecure_channel(address)
    try:
        grpc.channel_ready_future(channel).result(timeout=60)
    except grpc.FutureTimeoutError:
        process.kill()
        raise SystemExit((data_dir / "server.log").read_text()) from None
    finally:
        channel.close()
    return process, address


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def query(data_dir: Path, sql: str, *args: Any) -> list[tuple]:
    """Reads the server's SQLite database read-only."""
    conn = sqlite3.connect(f"file:{data_dir / 'hivemind.db'}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def check_ledger(data_dir: Path) -> dict[str, Any]:
    """The server's own ledger audit of the data dir: {"ok": bool, ...its JSON}."""
    done = subprocess.run(
        server_command("admin", "check-ledger", "--data-dir", str(data_dir), "--json"),
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        report = {"output": (done.stdout + done.stderr).strip()[-300:]}
    return {"ok": done.returncode == 0, **report}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


class Clock:
    """Seconds since the bench began, for progress lines on stderr."""

    def __init__(self) -> None:
        self.began = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.began:6.1f}s] {text}", file=sys.stderr, flush=True)
