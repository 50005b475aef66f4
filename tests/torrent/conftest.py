"""Real libtorrent sessions on 127.0.0.1 (no DHT, LSD, UPnP or NAT-PMP; peers are connected
directly), a real server seeder on a real SQLite file, and helpers to make artifacts."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from swarmkit import LOOPBACK, write_artifact

from app.services.torrent import TorrentSession, TorrentSessionSettings
from server.config import ServerSettings
from server.store.db import Database
from server.store.schema import artifacts
from server.torrent import Seeder


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


class SeederWorld:
    """A server data dir with an SQLite database and artifacts laid out like the store."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = ServerSettings.load(data_dir, listen=f"{LOOPBACK}:0", bt_listen_port=0)
        self.db = Database.for_data_dir(data_dir)
        self.db.create_schema()
        self.seeders: list[Seeder] = []

    def path_for(self, digest: str) -> Path:
        return self.settings.artifacts_dir / digest[:2] / digest[2:4] / digest

    def store(self, size: int, kind: str = "input") -> str:
        """Puts a random artifact of `size` bytes in the store; returns its digest."""
        staging = self.settings.artifacts_dir / "tmp" / f"staging-{time.monotonic_ns()}"
        digest = write_artifact(staging, size)
        final = self.path_for(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, final)
        self.db.transaction_sync(
            lambda conn: conn.execute(
                insert(artifacts).values(
                    digest=digest, size=size, kind=kind, name="", created_at=time.time()
                )
            )
        )
        return digest

    async def seeder(self, **overrides: Any) -> Seeder:
        seeder = Seeder(self.settings, self.db, self.path_for, **overrides)
        await seeder.start()
        self.seeders.append(seeder)
        return seeder


@pytest.fixture
async def seeder_world(tmp_path: Path) -> AsyncIterator[SeederWorld]:
    world = SeederWorld(tmp_path / "server")
    yield world
    for seeder in world.seeders:
        await seeder.close()
    world.db.close()
