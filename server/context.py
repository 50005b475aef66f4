"""What every servicer and background task of one server process shares."""

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

    @classmethod
    def create(cls, settings: ServerSettings) -> ServerContext:
        from server.jobs.artifacts import ArtifactStore
        from server.jobs.events import JobEvents

        db = Database.for_data_dir(settings.data_dir, settings.database_url or None)
        db.create_schema()
        ctx = cls(settings=settings, db=db)
        ctx.artifacts = ArtifactStore(settings, db)
        ctx.events = JobEvents()
        return ctx
