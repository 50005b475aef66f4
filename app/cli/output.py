"""How every `hivemind` command talks to the person (or script) running it.

- `emit(args, obj, human=...)`: with --json exactly one JSON object on stdout; else the human
  form. Money always appears as integer `<name>_ucpt` plus the decimal string `<name>_cpt`.
- Errors are one line on stderr ("error: ..."), a non-zero exit code, and with --json also a
  `{"error": ..., "code": ...}` object on stdout so scripts need not parse stderr.
- `progress(args)`: rich progress bars, silent with --json or when stdout is not a terminal.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import grpc
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from app.services.client.credentials import CredentialError
from app.services.client.session import ClientError
from app.services.client.transfer import TransferError
from app.services.jobs.package import PackageError
from common.units import format_ucpt

# Exit codes scripts can rely on (argparse itself uses 2 for usage errors).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREACHABLE = 3
EXIT_UNAUTHENTICATED = 4


class CommandError(Exception):
    """Bad input or a failed step, already phrased for a person."""

    def __init__(self, message: str, code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def money(name: str, ucpt: int) -> dict[str, Any]:
    """money("balance", 1_500_000) -> {"balance_ucpt": 1500000, "balance_cpt": "1.5"}."""
    return {f"{name}_ucpt": int(ucpt), f"{name}_cpt": format_ucpt(int(ucpt))}


def cpt(ucpt: int) -> str:
    """An amount for people: '1.5 CPT'."""
    return f"{format_ucpt(int(ucpt))} CPT"


def timestamp(unix_seconds: int) -> str:
    """A unix time for people, UTC to the second ('2026-01-31 12:00:00Z'); '-' for 0."""
    if not unix_seconds:
        return "-"
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def wants_json(args: Any) -> bool:
    return bool(getattr(args, "json", False))


def stdout_console() -> Console:
    # Created per use: tests swap sys.stdout. Piped output gets a wide page so IDs people
    # copy from it are never cut; a terminal sets its own width.
    width = None if sys.stdout.isatty() else 200
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, width=width)


def emit(args: Any, obj: dict[str, Any], human: Callable[[dict[str, Any]], None] | None = None):
    """Prints the result of a command, as JSON or for people."""
    if wants_json(args):
        sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
        sys.stdout.flush()
    elif human is not None:
        human(obj)
    else:
        console = stdout_console()
        for key, value in obj.items():
            console.print(f"{key}: {value}", markup=False)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False, title_justify="left")
    for position, column in enumerate(columns):
        numeric = column.lower().endswith(("cpt", "amount", "balance", "size", "tasks"))
        # The first column holds what a person copies (a job id, a time): never cut it.
        table.add_column(column, justify="right" if numeric else "left", no_wrap=position == 0)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    stdout_console().print(table)


def say(text: str) -> None:
    """One line of human output (not used with --json)."""
    stdout_console().print(text, markup=False)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(one line for a person, machine code) for anything a command may raise."""
    if isinstance(exc, ClientError):
        code, server, text = exc.code, exc.server or "the server", exc.message
        if code == grpc.StatusCode.UNAVAILABLE:
            text = f"cannot reach the server at {server} — is `hivemind-server run` running?"
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
            text = f"the server at {server} did not answer in time"
        elif code == grpc.StatusCode.PERMISSION_DENIED:
            text = f"not allowed: {text}"
        elif code == grpc.StatusCode.UNIMPLEMENTED:
            text = f"the server at {server} does not support this yet ({text})"
        elif code == grpc.StatusCode.INTERNAL:
            text = f"the server failed: {text}"
        return text, code.name
    if isinstance(exc, CommandError):
        return exc.message, exc.code
    if isinstance(exc, CredentialError):
        return str(exc), "CREDENTIALS"
    if isinstance(exc, PackageError):
        return str(exc), "BAD_PACKAGE"
    if isinstance(exc, TransferError):
        return str(exc), "TRANSFER_FAILED"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}", "OS_ERROR"
    return str(exc) or type(exc).__name__, "FAILED"


def exit_code_for(code: str) -> int:
    if code == "UNAVAILABLE":
        return EXIT_UNREACHABLE
    if code == "UNAUTHENTICATED":
        return EXIT_UNAUTHENTICATED
    return EXIT_FAILED


def fail(args: Any, exc: BaseException) -> int:
    """Reports `exc` as one line on stderr (and a JSON object with --json); the exit code."""
    text, code = describe_error(exc)
    text = " ".join(text.split())  # one line, always
    if wants_json(args):
        sys.stdout.write(json.dumps({"error": text, "code": code}, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    print(f"error: {text}", file=sys.stderr)
    return exit_code_for(code)


def warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


# Errors a command reports as one line; anything else is a bug and keeps its traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ClientError,
    CommandError,
    CredentialError,
    PackageError,
    TransferError,
    OSError,
)


def command(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wraps a CLI handler (sync or async) so expected errors become one stderr line and an
    exit code instead of a traceback."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(args: Any) -> int:
            try:
                return int(await handler(args) or 0)
            except EXPECTED_ERRORS as exc:
                return fail(args, exc)

        return run_async

    @functools.wraps(handler)
    def run(args: Any) -> int:
        try:
            return int(handler(args) or 0)
        except EXPECTED_ERRORS as exc:
            return fail(args, exc)

    return run


class ProgressDisplay:
    """Progress bars on stdout's terminal; every method is a no-op when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(file=sys.stdout),
                transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
            self._progress = None

    def bytes_task(self, description: str) -> Callable[[int, int], None]:
        """A bar for a transfer: returns `progress(done_bytes, total_bytes)`."""
        if self._progress is None:
            return _ignore
        progress = self._progress
        task_id = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task_id, completed=done, total=total or None)

        return update


class CountBar:
    """A bar counting things (tasks) with notes printed above it; silent when disabled.
    Callable as `bar(done, total)`, so it fits where a progress callback is expected."""

    def __init__(self, progress: Progress | None, task_id: Any = None) -> None:
        self._progress = progress
        self._task_id = task_id

    def __call__(self, done: int, total: int) -> None:
        self.update(done, total)

    def update(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task_id, completed=done, total=total or None)

    def note(self, text: str) -> None:
        """A line above the bar (through the bar's console, so the bar is not torn)."""
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)


@contextmanager
def count_progress(args: Any, description: str, total: int = 0) -> Iterator[CountBar]:
    """`with count_progress(args, "job x") as bar: bar.update(done, total); bar.note(...)`."""
    if not progress_enabled(args):
        yield CountBar(None)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stdout),
    )
    with progress:
        yield CountBar(progress, progress.add_task(description, total=total or None))


def progress_enabled(args: Any) -> bool:
    return not wants_json(args) and sys.stdout.isatty()


def progress(args: Any) -> ProgressDisplay:
    """`with progress(args) as bars: upload(..., progress=bars.bytes_task("package"))`."""
    return ProgressDisplay(progress_enabled(args))


def _ignore(done: int, total: int) -> None:
    return None
