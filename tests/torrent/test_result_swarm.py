"""Results by BitTorrent and every way back to gRPC, through a real server and real worker
agents (process executor) with their own libtorrent sessions on 127.0.0.1.

- a large result is pulled by the server over the connection the worker dialled;
- with BitTorrent off on the server, or its BT port unreachable, the job still completes
  over gRPC and the worker's log says it fell back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from pathlib import Path

import grpc
import libtorrent as lt
import pytest

from app.services.client.session import ClientError
from app.services.executors.process.executor import ProcessExecutor
from app.services.torrent import make_torrent
from app.services.torrent.fetch import TorrentFetcher
from app.services.worker.agent import WorkerAgent
from app.services.worker.options import WorkerOptions
from proto.hivemind.v1 import artifact_pb2, common_pb2
from server.errors import InvalidArgument
from server.jobs.access import Caller
from server.torrent.results import receive_offered_result
from tests.kit.client_cli import hivemind_command
from tests.kit.network import Network, download_results, submit, wait_for_job, write_package
from tests.kit.paths import REPO_ROOT, python_env
from tests.torrent.swarmkit import LOOPBACK, MB, sha256_of, write_artifact

pytestmark = [pytest.mark.torrent, pytest.mark.slow]

# Reads the input, writes its digest and 3 MB of incompressible output.
WRITE_RESULT = """
    import hashlib, os, pathlib
    data = pathlib.Path(os.environ["HIVEMIND_INPUT"]).read_bytes()
    out = pathlib.Path(os.environ["HIVEMIND_OUTPUT"])
    (out / "sha256.txt").write_text(hashlib.sha256(data).hexdigest())
    (out / "noise.bin").write_bytes(os.urandom(3 * 1024 * 1024))
"""


async def run_one_job(server, tmp_path: Path, *, stall_timeout_s: float = 20.0):
    """Submits one task with a 2 MB input, runs it on one BT-enabled worker; returns the
    finished job, the input's digest, the results folder and the worker's fetcher."""
    source = tmp_path / "input.bin"
    digest = write_artifact(source, 2 * MB)
    network = Network(tmp_path)
    fetcher = None
    try:
        alice = await network.person(server.address, "alice")
        job = await submit(alice, write_package(tmp_path / "job", WRITE_RESULT), inputs=[source])
        worker = await network.person(server.address, "worker")
        fetcher = await TorrentFetcher.open(
            worker.settings, server.address, listen_interface=LOOPBACK
        )
        fetcher.session.settings.stall_timeout_s = stall_timeout_s
        agent = WorkerAgent(
            worker.session,
            worker.settings,
            ProcessExecutor(),
            worker.credentials,
            options=WorkerOptions(name="bt-worker", max_tasks=1, lease_poll_s=0.2),
            torrents=fetcher,
        )
        network.workers.append((agent, asyncio.create_task(agent.run())))
        finished = await wait_for_job(alice, job.job_id, timeout=120)
        results = tmp_path / "results"
        await download_results(alice, job.job_id, results)
        return finished, digest, results, fetcher
    finally:
        await network.stop_workers()
        if fetcher is not None:
            await fetcher.close()
        await network.close()


async def test_a_large_result_is_pulled_by_the_server_over_bittorrent(
    server, tmp_path: Path, caplog
) -> None:
    with caplog.at_level(logging.INFO):
        job, digest, results, _ = await run_one_job(server, tmp_path)

    assert job.state == common_pb2.JOB_STATE_DONE
    assert (results / "0" / "sha256.txt").read_text() == digest
    assert (results / "0" / "noise.bin").stat().st_size == 3 * MB
    assert "result sent by bittorrent" in caplog.text
    assert "result pulled by bittorrent" in caplog.text
    received = (await server.ctx.seeder.stats()).downloaded_bytes
    assert received >= 3 * MB, f"the server received only {received} bytes by BitTorrent"


@pytest.mark.parametrize("server_settings", [{"bittorrent": False}])
async def test_with_bittorrent_off_on_the_server_the_job_completes_over_grpc(
    server, tmp_path: Path, caplog
) -> None:
    with caplog.at_level(logging.INFO):
        job, digest, results, _ = await run_one_job(server, tmp_path)

    assert job.state == common_pb2.JOB_STATE_DONE
    assert (results / "0" / "sha256.txt").read_text() == digest
    assert "BitTorrent is off on this server" in caplog.text
    assert "falling back to a gRPC upload" in caplog.text
    assert "result sent by bittorrent" not in caplog.text


async def test_with_the_servers_bt_port_unreachable_the_job_completes_over_grpc(
    server, tmp_path: Path, caplog
) -> None:
    # The peer list and the result offer point at a port nobody listens on (a firewall).
    # The socket stays bound (not listening) for the whole test: connections to it are
    # refused, and the OS cannot hand the port to the worker's own BitTorrent session.
    with socket.socket() as closed:
        closed.bind((LOOPBACK, 0))
        closed_port = closed.getsockname()[1]
        server.ctx.seeder.port = closed_port

        with caplog.at_level(logging.INFO):
            job, digest, results, _ = await run_one_job(server, tmp_path, stall_timeout_s=1.5)

    assert job.state == common_pb2.JOB_STATE_DONE
    assert (results / "0" / "sha256.txt").read_text() == digest
    assert "falling back to gRPC" in caplog.text  # the input
    assert f"BitTorrent port {LOOPBACK}:{closed_port} is unreachable" in caplog.text
    assert "falling back to a gRPC upload" in caplog.text  # the result


async def test_job_results_downloads_by_torrent_and_verifies(server, tmp_path: Path) -> None:
    job, digest, _, _ = await run_one_job(server, tmp_path)
    sent_before = (await server.ctx.seeder.stats()).uploaded_bytes
    out = tmp_path / "cli-results"
    home = tmp_path / "homes" / "alice"  # where the Network kept alice's login
    cli = await asyncio.create_subprocess_exec(
        *hivemind_command("job", "results", job.job_id),
        *["--out", str(out), "--json", "--home", str(home), "--server", server.address],
        cwd=REPO_ROOT,
        env=python_env(HIVEMIND_KEYRING="file"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(cli.communicate(), 90)

    assert cli.returncode == 0, stderr.decode()[-2000:]
    assert json.loads(stdout)["tasks_saved"] == 1
    assert (out / "0" / "sha256.txt").read_text() == digest
    assert (out / "0" / "noise.bin").stat().st_size == 3 * MB
    sent = (await server.ctx.seeder.stats()).uploaded_bytes - sent_before
    assert sent >= 3 * MB, f"the result did not travel by BitTorrent (sent {sent} bytes)"


async def test_a_small_result_is_uploaded_over_grpc(server, tmp_path: Path) -> None:
    network = Network(tmp_path)
    worker = await network.person(server.address, "worker")
    fetcher = await TorrentFetcher.open(worker.settings, server.address, listen_interface=LOOPBACK)
    try:
        small = tmp_path / "small.zip"
        write_artifact(small, 1000)
        assert await fetcher.offer_result(worker.session.artifacts, small) is None
        assert fetcher.seeding_digests() == []
    finally:
        await fetcher.close()
        await network.close()


async def test_a_tampered_swarm_copy_is_deleted_and_never_used(
    server, tmp_path: Path, make_session, caplog
) -> None:
    # A peer hands out a torrent of other bytes under the artifact's digest: the fetcher
    # deletes what it got and answers None, which sends the caller to the gRPC stream.
    network = Network(tmp_path)
    alice = await network.person(server.address, "alice")
    fetcher = await TorrentFetcher.open(alice.settings, server.address, listen_interface=LOOPBACK)
    try:
        wanted = "cd" * 32
        impostor = tmp_path / "liar" / wanted  # other bytes under the wanted name
        write_artifact(impostor, 2 * MB)
        torrent = torrent_named(impostor)
        liar = await make_session("liar")
        await liar.seed(impostor, torrent)
        with caplog.at_level(logging.WARNING, logger="hivemind.torrent"):
            got = await fetcher.from_swarm(wanted, torrent, [(LOOPBACK, liar.listen_port)])
        assert got is None
        assert "will not be used" in caplog.text and "falling back to gRPC" in caplog.text
        assert fetcher.cache.path(wanted) is None
        assert sha256_of(impostor) != wanted
        assert not list(fetcher.cache.root.rglob(wanted))
    finally:
        await fetcher.close()
        await network.close()


def torrent_named(path: Path) -> bytes:
    """A valid torrent of the file at `path`, named by the file's name (whatever its
    bytes hash to): every piece checks out, only the whole-file SHA-256 can tell."""
    entries = [lt.create_file_entry(path.name, path.stat().st_size)]
    creator = lt.create_torrent(entries, 256 * 1024, lt.create_torrent.v1_only)
    lt.set_piece_hashes(creator, str(path.parent))
    return lt.bencode(creator.generate())


async def test_bad_result_offers_are_refused_and_store_nothing(server, tmp_path: Path) -> None:
    network = Network(tmp_path)
    try:
        alice = await network.person(server.address, "alice")
        result = tmp_path / "result.zip"
        write_artifact(result, 2 * MB)
        meta = make_torrent(result)
        offer = artifact_pb2.OfferResultRequest(
            digest=meta.digest, size=meta.size, torrent=meta.torrent
        )
        with pytest.raises(ClientError) as refused:
            async for _ in alice.session.artifacts.OfferResult(offer):
                pass
        assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert "only a node uploads task results" in refused.value.message

        node = Caller(user_id="u", node_id="n")
        ready: asyncio.Queue[str] = asyncio.Queue()
        ctx = server.ctx
        with pytest.raises(InvalidArgument, match="describes 2097152 bytes, not the 5 declared"):
            await receive_offered_result(ctx, node, meta.digest, 5, meta.torrent, "", ready)
        with pytest.raises(InvalidArgument, match="not named by its digest"):
            await receive_offered_result(ctx, node, "e" * 64, meta.size, meta.torrent, "", ready)
        with pytest.raises(InvalidArgument, match="malformed torrent metadata"):
            await receive_offered_result(ctx, node, meta.digest, meta.size, b"junk", "", ready)
        assert ready.empty()
        assert list(ctx.artifacts.tmp_dir.iterdir()) == []
        assert ctx.seeder.seeding_digests() == []
    finally:
        await network.close()
