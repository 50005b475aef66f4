"""Running the real `hivemind` CLI against the real `server` fixture.

`cli(...)` runs `app.cli.main.main(argv)` in a worker thread (its own event loop, as in a
terminal) while the test's loop keeps serving the in-process server; `cli_process(...)` runs
`python -m app.cli.main` as a real subprocess. Both use a HIVEMIND_HOME in tmp_path and the
file credential store.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
# One CLI run at a time: redirecting sys.stdout/stdin is process-wide.
_cli_lock = threading.Lock()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line on stdout, got: {self.stdout!r}"
        return json.loads(lines[0])


def read_credentials(home: Path) -> dict[str, Any]:
    """The file credential store's content ({} when absent)."""
    path = home / "credentials.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def hivemind_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("HIVEMIND_HOME", str(home))
    monkeypatch.setenv("HIVEMIND_KEYRING", "file")
    return home


def _run_in_thread(argv: list[str], stdin: str) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    with _cli_lock:
        saved_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse usage errors
                    code = exc.code if isinstance(exc.code, int) else 2
        finally:
            sys.stdin = saved_stdin
    return CliResult(int(code or 0), out.getvalue(), err.getvalue())


@pytest.fixture
def cli(hivemind_home: Path) -> Callable[..., Awaitable[CliResult]]:
    """`result = await cli("account", "balance", "--json", server=srv, stdin="...")`."""

    async def run(*argv: str, server: Any = None, stdin: str = "") -> CliResult:
        args = list(argv)
        if server is not None:
            args += ["--server", server if isinstance(server, str) else server.address]
        return await asyncio.to_thread(_run_in_thread, args, stdin)

    return run


@pytest.fixture
def cli_process(hivemind_home: Path) -> Callable[..., Awaitable[CliResult]]:
    """Like `cli`, as a real `python -m app.cli.main` subprocess."""

    async def run(*argv: str, server: Any = None, stdin: str = "") -> CliResult:
        args = list(argv)
        if server is not None:
            args += ["--server", server if isinstance(server, str) else server.address]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli.main",
            *args,
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate(stdin.encode())
        return CliResult(proc.returncode or 0, out.decode(), err.decode())

    return run


@pytest.fixture
def register(cli: Callable[..., Awaitable[CliResult]]) -> Callable[..., Awaitable[CliResult]]:
    """`await register(server, "alice")`: registers through the CLI and logs in."""

    async def run(server: Any, username: str, password: str = PASSWORD) -> CliResult:
        result = await cli(
            "account",
            "register",
            "--username",
            username,
            "--password-stdin",
            "--json",
            server=server,
            stdin=password + "\n",
        )
        assert result.code == 0, result.stderr
        return result

    return run
