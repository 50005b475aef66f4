"""Replicas of one server as real `hivemind-server` processes (docs/ADMIN.md, "Scale-out"):
each with a data dir of its own, all on one database (the first data dir's, named in every
server.toml), one Redis (under a namespace of this test's own) and one token.key, as an
admin sets them up. `ServerProcess` runs each, so a test can SIGKILL one.

`same_owner_workers` gives workers that are all one person's nodes: no other owner can
spot-check their results, so each task runs exactly once unless a lease is lost, which is
what "no task leased twice" is checked against."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from server.accounts.signing import KEY_FILE, load_or_create_key
from tests.kit.accounts import PASSWORD
from tests.kit.redis import new_namespace
from tests.kit.servers import ServerProcess, free_port

StartProcess = Callable[..., Awaitable[ServerProcess]]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


async def start_replicas(
    server_process: StartProcess,
    root: Path,
    count: int,
    redis_url: str,
    prepare_database: Callable[[Path], None],
    web: bool = False,
    **settings: Any,
) -> list[ServerProcess]:
    """`count` replicas named a, b, c ... under `root`, started in order. `settings` go to
    every server.toml (as [server] keys) beside the database, Redis and its namespace. With
    `web`, each serves its web server (/readyz) on a port of its own (`web_address`)."""
    first = root / "replica-a"
    prepare_database(first)  # the database every replica uses: named in server.toml
    load_or_create_key(first)
    base = (first / "server.toml").read_text() if (first / "server.toml").exists() else ""
    if "[server]" not in base:
        base = "[server]\n" + base
    lines = {"redis_url": redis_url, "redis_namespace": new_namespace(), **settings}
    config = (
        base.rstrip("\n") + "\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in lines.items())
    )
    replicas = []
    for index in range(count):
        data_dir = root / f"replica-{'abcdefgh'[index]}"
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "server.toml").write_text(config)
        if data_dir != first:
            shutil.copy2(first / KEY_FILE, data_dir / KEY_FILE)
        replicas.append(await _start(server_process, data_dir, web))
    return replicas


async def _start(server_process: StartProcess, data_dir: Path, web: bool) -> ServerProcess:
    """Started on free ports; again on others when something took one meanwhile (other
    programs on this machine pick free ports too)."""
    for attempt in range(3):
        extra_args = ["--http", f"127.0.0.1:{free_port()}"] if web else []
        try:
            return await server_process(data_dir=data_dir, port=free_port(), extra_args=extra_args)
        except RuntimeError as error:
            if "address in use" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


async def same_owner_workers(network: Any, addresses: list[str], name: str) -> list[Any]:
    """One person of the test's `network` per address, each a HiveMind home of the one user
    `name` (registered by the first) talking to that address: their workers are that user's
    nodes."""
    people = [await network.person(addresses[0], name)]
    for index, address in enumerate(addresses[1:], start=1):
        person = await network.person(address, f"{name}-{index}", register=False)
        await person.session.login(name, PASSWORD)
        people.append(person)
    return people
