"""Helpers for the BitTorrent tests: random artifacts and their digests, and a server data dir
for a real seeder (`SeederWorld`, what the `seeder_world` fixture gives)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from server.config import ServerSettings
from server.store.db import Database
from server.store.schema import artifacts
from server.torrent import Seeder

MB = 1024 * 1024
LOOPBACK = "127.0.0.1"


def write_artifact(path: Path, size: int) -> str:
    """Writes `size` random bytes to `path` and returns their SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MB))
            out.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(4 * MB):
            digest.update(block)
    return digest.hexdigest()


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
