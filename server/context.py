"""What every servicer and background task of one server process shares (built by
server/app.py, which knows every service it holds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.config import ServerSettings
from server.store.db import Database


@dataclass
class ServerContext:
    settings: ServerSettings
    db: Database
    artifacts: Any = None  # server.jobs.artifacts.ArtifactStore
    events: Any = None  # server.jobs.events.JobEvents
    seeder: Any = None  # BitTorrent seeder (issue 4), None when BitTorrent is off
    extras: dict[str, Any] = field(default_factory=dict)
