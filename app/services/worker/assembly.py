"""One way to assemble a worker, used by `hivemind worker run`, the desktop app and the demo:
the executor asked for (opened and checked), a BitTorrent client when the settings allow it,
the policy and the options, tied to the session by a WorkerAgent.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.executors.choice import open_executor
from app.services.settings import SettingsStore, home_key
from app.services.torrent.fetch import TorrentFetcher, open_torrents
from app.services.worker.agent import WorkerAgent
from app.services.worker.options import WorkerOptions


@dataclass
class OpenedWorker:
    """A worker agent and what was opened for it; `close()` after the agent's run."""

    agent: WorkerAgent
    torrents: TorrentFetcher | None  # None: every file travels over gRPC
    notice: str = ""  # what the user should know about the executor; "" = nothing

    async def close(self) -> None:
        if self.torrents is not None:
            torrents, self.torrents = self.torrents, None
            with contextlib.suppress(Exception):  # closing must not hide why the run ended
                await torrents.close()


async def open_worker(
    session: ClientSession,
    settings: SettingsStore,
    credentials: CredentialStore,
    *,
    executor: str,
    policy: Any = None,
    options: WorkerOptions | None = None,
    bittorrent: bool = True,
    instance: str = "",
    runtime: str = "",
    **torrent_overrides: Any,
) -> OpenedWorker:
    """The worker agent of `settings`' home, not yet running (`await worker.agent.run()`).

    `executor` is "docker", "process" or "auto" (app.services.executors.choice says how each
    is opened; `runtime` is a runtime Docker must already hold). `instance` labels its task
    containers (default: one label per HiveMind home). `policy` may pause the worker (None:
    never). BitTorrent is used when the settings and `bittorrent` allow it;
    `torrent_overrides` go to its session (the demo listens on loopback only). Raises
    ExecutorUnavailable (nothing is left open then) or ValueError for an unknown executor."""
    chosen = await open_executor(
        executor, instance=instance or home_key(settings.home), runtime=runtime
    )
    torrents = await open_torrents(
        settings, lambda: session.current_address, enabled=bittorrent, **torrent_overrides
    )
    agent = WorkerAgent(
        session,
        settings,
        chosen.executor,
        credentials,
        policy=policy,
        options=options,
        torrents=torrents,
    )
    return OpenedWorker(agent, torrents, chosen.notice)
