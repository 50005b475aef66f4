"""What the benches need around a real server: start one on loopback on a fresh data dir
(SQLite, or the database its settings name), stop it, start a Redis for a run, read a SQLite
database read-only as an auditor would, run the server's own ledger audit (`python -m server
admin check-ledger --json`), and percentiles of latencies.

The gRPC clients themselves come from tests/kit (stubs.py: the calls; loopback_networks.py:
channels whose calls come from a chosen 127.x source address, so each simulated machine is
a network of its own as the server sees it).
"""

from __future__ import annotations

import json
import os
import shutil
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


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", *args]


def start_server(
    data_dir: Path, settings: dict[str, Any], http: str = "off"
) -> tuple[subprocess.Popen, str]:
    """`python -m server run` on a free loopback port with no BitTorrent seeder, its web
    dashboard and /metrics at `http` ("HOST:PORT", "auto", or "off": none), and `settings`
    as HIVEMIND_SERVER_* variables (by environment, not argv: a database URL may hold a
    password); (the process, its address) once it answers."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for name, value in settings.items():
        env[f"HIVEMIND_SERVER_{name.upper()}"] = str(value)
    address = f"127.0.0.1:{free_port()}"
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    args = ("--listen", address, "--no-bittorrent", "--http", http)
    process = subprocess.Popen(
        server_command("run", "--data-dir", str(data_dir), *args),
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


def start_redis(work_dir: Path) -> tuple[subprocess.Popen, str]:
    """A redis-server (Debian's) on a free loopback port, no persistence; (it, its URL)."""
    if shutil.which("redis-server") is None:
        raise SystemExit("Redis: no redis-server here (apt install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(work_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("redis-server did not start") from None
            time.sleep(0.05)


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
