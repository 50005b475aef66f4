"""The `hivemind` command line as a user runs it, with its own HiveMind home and the file
credential store: in this process (`run_in_thread`, what the `cli` fixture uses) or as a real
subprocess (`hivemind_command` with `client_env`, `hivemind_cli` for one JSON answer,
`worker_command` for `hivemind worker run`)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.kit.paths import REPO_ROOT, python_env

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


def run_in_thread(argv: list[str], stdin: str) -> CliResult:
    """`app.cli.main.main(argv)` with `stdin` as its input and its output captured; meant for
    a worker thread (it runs its own event loop, as in a terminal)."""
    from app.cli.main import main

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


def read_credentials(home: Path) -> dict[str, Any]:
    """The file credential store's content ({} when absent)."""
    path = home / "credentials.json"
    return json.loads(path.read_text()) if path.exists() else {}


def hivemind_command(*args: str) -> list[str]:
    """argv of `hivemind ARGS` from the source tree (run it with cwd=REPO_ROOT)."""
    return [sys.executable, "-m", "app.cli.main", *args]


def client_env(home: Path, **overrides: str) -> dict[str, str]:
    """The environment of a `hivemind` subprocess whose HiveMind home is `home`."""
    return python_env(HIVEMIND_HOME=str(home), HIVEMIND_KEYRING="file", **overrides)


def hivemind_cli(home: Path, *args: str, stdin: str = "", timeout: float = 120) -> Any:
    """`hivemind ARGS --json` as a subprocess with its own home; returns its JSON object."""
    done = subprocess.run(
        hivemind_command(*args, "--json"),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=client_env(home),
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"hivemind {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_command(home: Path, address: str, *extra: str) -> tuple[list[str], dict[str, str]]:
    """argv and env of `hivemind worker run` (process executor) as a real subprocess."""
    argv = hivemind_command("worker", "run", "--executor", "process", "--server", address, *extra)
    return argv, client_env(home)
