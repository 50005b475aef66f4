"""`hivemind`: the contributor's and submitter's command line.

Each command group lives in its own module with `add_parser(subparsers)`; a command's
handler is `async def handler(args) -> int` or a plain function returning an exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys

from app import __version__

# Command-group modules under app/cli/, in the order `--help` lists them.
COMMAND_MODULES = ["account", "job", "worker", "demo", "app_cmd"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hivemind", description="HiveMind: lend idle computers, run jobs on many."
    )
    parser.add_argument("--version", action="version", version=f"hivemind {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"app.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"app.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
        code = asyncio.run(result) if inspect.iscoroutine(result) else result
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
