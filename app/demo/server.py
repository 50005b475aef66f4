"""The demo's server: `python -m server run` on a free loopback port with a throw-away data
dir, stopped with SIGTERM; and the server's own ledger audit (`admin check-ledger`)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any


class DemoError(Exception):
    """The demo could not finish; the message says where it stopped."""


class ServerProcess:
    """`python -m server run` on a free loopback port, stopped with SIGTERM."""

    def __init__(
        self, data_dir: Path, log_path: Path, settings: dict[str, int] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.settings = settings or {}  # written to the data dir's server.toml
        self.address = ""
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30.0) -> str:
        if getattr(sys, "frozen", False):
            # The desktop bundle carries no server (packaging/hivemind.spec excludes it).
            raise DemoError(
                "the desktop bundle has no server: run `hivemind demo` from a source checkout"
                " (`make demo`) or where `pip install hivemind-platform` is installed"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Every node of the demo runs on this one machine, so the server cannot tell their
        # networks apart: the setting of a private network (docs/SECURITY.md).
        config = self.data_dir / "server.toml"
        if not config.exists():
            lines = "".join(f"{name} = {value}\n" for name, value in self.settings.items())
            config.write_text("[server]\ndistinct_networks = false\n" + lines)
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - the child writes it until stop
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server",
                "run",
                "--data-dir",
                str(self.data_dir),
                "--listen",
                "127.0.0.1:0",
                stdout=asyncio.subprocess.PIPE,
                stderr=log_file,
                env=child_env(),
            )
        finally:
            log_file.close()
        try:
            line = await asyncio.wait_for(self._listening_line(), timeout)
        except TimeoutError:
            await self.stop()
            tail = self._log_tail()
            raise DemoError(f"the server did not start in {timeout:.0f}s{tail}") from None
        match = re.search(r"listening on (\S+)", line)
        if not match:
            await self.stop()
            raise DemoError(f"the server did not start{self._log_tail()}")
        self.address = match.group(1)
        return self.address

    async def _listening_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        while True:
            raw = await self.process.stdout.readline()
            if not raw:
                return ""
            line = raw.decode(errors="replace")
            if "listening on" in line:
                return line

    def _log_tail(self) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
        except OSError:
            return ""
        return (":\n" + "\n".join(tail)) if tail else ""

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def check_ledger(self) -> dict[str, Any] | None:
        """The server's own audit (`admin check-ledger --json`); None when it cannot run."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server",
            "admin",
            "check-ledger",
            "--data-dir",
            str(self.data_dir),
            "--json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=child_env(),
        )
        out, _ = await proc.communicate()
        try:
            return json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The source tree on the path, so `-m server` works from a checkout too.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env
