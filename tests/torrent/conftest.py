"""Real libtorrent sessions on 127.0.0.1 (no DHT, LSD, UPnP or NAT-PMP; peers are connected
directly) and a real server seeder on a real SQLite file (its world: swarmkit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.services.torrent import TorrentSession, TorrentSessionSettings
from tests.torrent.swarmkit import LOOPBACK, SeederWorld


@pytest.fixture
async def make_session(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[TorrentSession]]]:
    """`await make_session(name, **settings)`: a started session listening on 127.0.0.1 with
    its resume data in tmp_path/<name>/state. All are closed after the test."""
    sessions: list[TorrentSession] = []

    async def start(name: str = "", **overrides: Any) -> TorrentSession:
        name = name or f"peer{len(sessions)}"
        overrides.setdefault("listen_interface", LOOPBACK)
        overrides.setdefault("state_dir", tmp_path / name / "state")
        overrides.setdefault("stall_timeout_s", 20.0)
        session = TorrentSession(TorrentSessionSettings(**overrides))
        await session.start()
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        await session.close()


@pytest.fixture
async def seeder_world(tmp_path: Path) -> AsyncIterator[SeederWorld]:
    world = SeederWorld(tmp_path / "server")
    yield world
    for seeder in world.seeders:
        await seeder.close()
    world.db.close()
