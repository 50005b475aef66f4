"""Running the real `hivemind` CLI against the real `server` fixture.

`cli(...)` (tests/conftest.py) runs `app.cli.main.main(argv)` in a worker thread while the
test's loop keeps serving the in-process server; `cli_process(...)` here runs `python -m
app.cli.main` as a real subprocess. Both use a HIVEMIND_HOME in tmp_path and the file
credential store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kit.accounts import PASSWORD
from tests.kit.client_cli import CliResult, hivemind_command
from tests.kit.paths import REPO_ROOT, python_env


@pytest.fixture
def cli_process(hivemind_home: Path) -> Callable[..., Awaitable[CliResult]]:
    """Like `cli`, as a real `python -m app.cli.main` subprocess."""

    async def run(*argv: str, server: Any = None, stdin: str = "") -> CliResult:
        args = list(argv)
        if server is not None:
            args += ["--server", server if isinstance(server, str) else server.address]
        proc = await asyncio.create_subprocess_exec(
            *hivemind_command(*args),
            cwd=REPO_ROOT,
            env=python_env(),
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
