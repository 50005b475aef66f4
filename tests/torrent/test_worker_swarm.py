"""Workers fetch a job's input over BitTorrent (the issue's proof): a real server with its
seeder, real worker agents with the process executor, each with its own BT session on
127.0.0.1. Every task reads the input intact, and the server sends it less than twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.executors.process.executor import ProcessExecutor
from app.services.torrent.fetch import TorrentFetcher
from app.services.worker.agent import WorkerAgent
from app.services.worker.options import WorkerOptions
from proto.hivemind.v1 import common_pb2
from tests.kit.network import Network, download_results, submit, wait_for_job, write_package
from tests.torrent.swarmkit import LOOPBACK, MB, write_artifact

pytestmark = [pytest.mark.torrent, pytest.mark.slow]

READ_INPUT = """
    import hashlib, os, pathlib
    data = pathlib.Path(os.environ["HIVEMIND_INPUT"]).read_bytes()
    out = pathlib.Path(os.environ["HIVEMIND_OUTPUT"])
    (out / "sha256.txt").write_text(hashlib.sha256(data).hexdigest())
"""


async def test_four_workers_get_a_64_mb_input_by_torrent(server, tmp_path: Path) -> None:
    size = 64 * MB
    source = tmp_path / "big-input.bin"
    digest = write_artifact(source, size)
    network = Network(tmp_path)
    fetchers: list[TorrentFetcher] = []
    try:
        alice = await network.person(server.address, "alice")
        package = write_package(tmp_path / "hash-input", READ_INPUT)
        job = await submit(alice, package, inputs=[source] * 4, timeout_s=120)
        for i in range(4):
            worker = await network.person(server.address, f"worker{i}")
            fetcher = await TorrentFetcher.open(
                worker.settings, server.address, listen_interface=LOOPBACK
            )
            fetchers.append(fetcher)
            agent = WorkerAgent(
                worker.session,
                worker.settings,
                ProcessExecutor(),
                worker.credentials,
                options=WorkerOptions(name=f"worker{i}", max_tasks=1, lease_poll_s=0.2),
                torrents=fetcher,
            )
            network.workers.append((agent, asyncio.create_task(agent.run())))

        finished = await wait_for_job(alice, job.job_id, timeout=240)

        assert finished.state == common_pb2.JOB_STATE_DONE
        results = await download_results(alice, job.job_id, tmp_path / "results")
        assert len(results.results) == 4
        for index in range(4):
            assert (tmp_path / "results" / str(index) / "sha256.txt").read_text() == digest
        for (agent, _), fetcher in zip(network.workers, fetchers, strict=True):
            if agent.tasks_done:  # it fetched the input by torrent, and shares it on
                assert fetcher.seeding_digests() == sorted([digest, job.package_digest])
        sent = (await server.ctx.seeder.stats()).uploaded_bytes
        assert sent < 2 * size, f"the server sent {sent / size:.2f}x the input"
    finally:
        await network.stop_workers()
        for fetcher in fetchers:
            await fetcher.close()
        await network.close()
