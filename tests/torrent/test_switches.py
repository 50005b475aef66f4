"""The switches that turn BitTorrent off, as an admin and a contributor type them: real
`hivemind-server run --no-bittorrent` and `hivemind worker run --no-bittorrent` processes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import pytest

from app.services.client.session import ClientError
from app.services.client.transfer import upload_file
from proto.hivemind.v1 import artifact_pb2, common_pb2
from tests.kit.client_cli import worker_command
from tests.kit.network import Network, submit, wait_for_job, write_package
from tests.kit.paths import REPO_ROOT
from tests.torrent.swarmkit import MB, write_artifact

pytestmark = [pytest.mark.torrent, pytest.mark.slow]


async def test_a_server_started_with_no_bittorrent_serves_files_over_grpc_only(
    server_process, tmp_path: Path
) -> None:
    proc = await server_process(extra_args=["--no-bittorrent"])
    network = Network(tmp_path)
    try:
        alice = await network.person(proc.address, "alice")
        source = tmp_path / "input.bin"
        digest = write_artifact(source, MB)
        await upload_file(alice.session.artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)

        with pytest.raises(ClientError) as refused:
            await alice.session.artifacts.GetTorrent(artifact_pb2.GetTorrentRequest(digest=digest))
        assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert "BitTorrent is off on this server" in refused.value.message
        assert "seeder listening" not in proc.log()
    finally:
        await network.close()


async def test_a_worker_started_with_no_bittorrent_runs_jobs_over_grpc(
    server, tmp_path: Path
) -> None:
    network = Network(tmp_path)
    try:
        alice = await network.person(server.address, "alice")
        bob = await network.person(server.address, "bob")
        package = write_package(
            tmp_path / "hello",
            """
            import os
            open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "hi.txt"), "w").write("hi")
            """,
        )
        job = await submit(alice, package, tasks=1)
        argv, env = worker_command(
            bob.home, server.address, "--no-bittorrent", "--exit-when-idle", "1.5", "--json"
        )
        worker = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(worker.communicate(), 90)

        assert worker.returncode == 0, err.decode()[-2000:]
        assert json.loads(out)["tasks_done"] == 1
        assert "bittorrent off: artifacts and results travel over gRPC" in err.decode()
        assert (await wait_for_job(alice, job.job_id, timeout=5)).state == (
            common_pb2.JOB_STATE_DONE
        )
        assert server.ctx.seeder.seeding_digests() == []  # nobody asked for a torrent
    finally:
        await network.close()
