"""How a `hivemind-server` command gets its settings (defaults < data_dir/server.toml <
HIVEMIND_SERVER_* environment < --config file < flags) and its logging, and CliError: the one
line a command prints to stderr before it exits 1."""

from __future__ import annotations

import argparse
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

from server.config import ServerSettings


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def load_settings(args: argparse.Namespace, **flags: Any) -> ServerSettings:
    """Defaults < data_dir/server.toml < HIVEMIND_SERVER_* env < --config file < flags."""
    overrides: dict[str, Any] = {}
    config = getattr(args, "config", None)
    if config:
        path = Path(config)
        try:
            overrides.update(tomllib.loads(path.read_text()).get("server", {}))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise CliError(f"cannot read config {path}: {error}") from None
    overrides.update({k: v for k, v in flags.items() if v is not None})
    try:
        return ServerSettings.load(args.data_dir, **overrides)
    except (TypeError, ValueError) as error:
        raise CliError(f"bad setting: {error}") from None


class CliError(Exception):
    """One line for stderr; the command exits 1."""
