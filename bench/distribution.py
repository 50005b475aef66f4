"""How long until N workers hold a verified copy of one artifact, and how many bytes the
server sent: BitTorrent (the server's seeder plus workers trading pieces) against the gRPC
stream alone (every worker downloads from the server).

    python bench/distribution.py                                  # 128 MiB of the torch runtime
    python bench/distribution.py --size-mb 0 --workers 8 --skip-grpc   # the whole runtime
    python bench/distribution.py --random --size-mb 128           # random bytes, no Docker

The artifact is the training runtime as the server stores it: `docker save
hivemind/python-torch:3.11` (about 1.4 GB; `make runtime-image-torch`), cut to its first
--size-mb MiB (0: all of it), so a small machine can measure the fan-out without writing
N copies of the whole image; with --random, --size-mb of random bytes.

Prints one JSON line: artifact, size_bytes, workers, bt_seconds, bt_server_bytes,
grpc_seconds, grpc_server_bytes (plus bt_server_payload_bytes, bt_torrent_seconds). Everything
runs on 127.0.0.1. The BT side is the server's real Seeder and real worker TorrentSessions in
this process; the gRPC side is a real `python -m server run` subprocess and real
ClientSessions. bt_server_bytes counts everything the seeder sent (protocol and IP overhead
included); grpc_server_bytes counts only artifact bytes, so the comparison favours gRPC.
Timings start when the workers start fetching: making the torrent happens once, when the
artifact is stored (bt_torrent_seconds), and the upload to the gRPC server is not timed either.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from app.services.client.credentials import CredentialStore  # noqa: E402
from app.services.client.session import ClientSession  # noqa: E402
from app.services.client.transfer import download_artifact, upload_file  # noqa: E402
from app.services.settings import SettingsStore  # noqa: E402
from app.services.torrent import TorrentSession, TorrentSessionSettings  # noqa: E402
from proto.hivemind.v1 import common_pb2  # noqa: E402
from server.config import ServerSettings  # noqa: E402
from server.store.db import Database  # noqa: E402
from server.store.schema import artifacts  # noqa: E402
from server.torrent import Seeder  # noqa: E402

MB = 1024 * 1024
IMAGE = "hivemind/python-torch:3.11"
LOOPBACK = "127.0.0.1"
PASSWORD = "bench password 1"


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MB))
            out.write(block)
            left -= len(block)


def save_image(image: str, path: Path, size: int) -> tuple[int, int]:
    """`docker save IMAGE`, cut to its first `size` bytes (0: whole): (bytes kept, whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        saved = subprocess.run(
            ["docker", "save", image, "-o", str(path)], capture_output=True, text=True
        )
    except FileNotFoundError:
        raise SystemExit("distribution: no docker command (or use --random)") from None
    if saved.returncode != 0:
        reason = saved.stderr.strip().splitlines()[-1:] or ["docker save failed"]
        raise SystemExit(f"distribution: {image}: {reason[0]} (make runtime-image-torch)")
    whole = path.stat().st_size
    if size and size < whole:
        os.truncate(path, size)
        return size, whole
    return whole, whole


def store_path(settings: ServerSettings, digest: str) -> Path:
    # The artifact store's layout (server/jobs/artifacts.py).
    return settings.artifacts_dir / digest[:2] / digest[2:4] / digest


async def bench_bittorrent(source: Path, size: int, workers: int, work: Path) -> dict[str, float]:
    from common.digests import file_sha256

    settings = ServerSettings.load(work / "server", listen=f"{LOOPBACK}:0")
    db = Database.for_data_dir(settings.data_dir)
    db.create_schema()
    digest = await asyncio.to_thread(file_sha256, source)
    stored = store_path(settings, digest)
    stored.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, stored)
    db.transaction_sync(
        lambda conn: conn.execute(
            insert(artifacts).values(
                digest=digest, size=size, kind="input", name="bench", created_at=time.time()
            )
        )
    )
    seeder = await Seeder(settings, db, lambda d: store_path(settings, d)).start()
    sessions: list[TorrentSession] = []
    try:
        began = time.perf_counter()
        seed = await seeder.torrent_for(digest)
        torrent_seconds = time.perf_counter() - began
        for i in range(workers):
            state = work / f"worker{i}" / "state"
            settings_i = TorrentSessionSettings(listen_interface=LOOPBACK, state_dir=state)
            sessions.append(await TorrentSession(settings_i).start())
        server = (LOOPBACK, seeder.port)

        async def fetch(i: int) -> Path:
            # As a worker's TorrentFetcher does with what GetTorrent lists (the server and
            # the nodes that asked before): nodes first, the server when they stay idle.
            others = [(LOOPBACK, s.listen_port) for s in sessions[:i]]
            return await sessions[i].download(
                seed.torrent, work / f"worker{i}" / "cache", peers=others, reserve_peers=[server]
            )

        began = time.perf_counter()
        await asyncio.gather(*(fetch(i) for i in range(workers)))
        seconds = time.perf_counter() - began
        stats = await seeder.stats()
        return {
            "bt_seconds": round(seconds, 3),
            "bt_server_bytes": stats.sent_bytes,
            "bt_server_payload_bytes": stats.uploaded_bytes,
            "bt_torrent_seconds": round(torrent_seconds, 3),
        }
    finally:
        for session in sessions:
            await session.close()
        await seeder.close()
        db.close()


async def bench_grpc(source: Path, size: int, workers: int, work: Path) -> dict[str, float]:
    port = free_port()
    address = f"{LOOPBACK}:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT), HIVEMIND_SERVER_BITTORRENT="false")
    work.mkdir(parents=True, exist_ok=True)
    log = (work / "grpc-server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "run", "--data-dir", str(work / "grpc-server"),
        "--listen", address, cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    clients: list[ClientSession] = []
    try:
        await wait_listening(port, process)
        for i in range(workers + 1):
            home = work / f"client{i}"
            clients.append(
                ClientSession(
                    SettingsStore(home), CredentialStore(home, backend="file"), server=address
                )
            )
        await clients[0].register("bench", PASSWORD)
        info = await upload_file(clients[0].artifacts, source, common_pb2.ARTIFACT_KIND_INPUT)
        for client in clients[1:]:
            await client.login("bench", PASSWORD)
        received = [0] * workers

        async def fetch(i: int) -> Path:
            def progress(done: int, _total: int) -> None:
                received[i] = done

            dest = work / f"client{i + 1}" / "cache" / info.digest
            return await download_artifact(clients[i + 1].artifacts, info.digest, dest, progress)

        began = time.perf_counter()
        await asyncio.gather(*(fetch(i) for i in range(workers)))
        seconds = time.perf_counter() - began
        return {"grpc_seconds": round(seconds, 3), "grpc_server_bytes": sum(received)}
    finally:
        for client in clients:
            await client.close()
        process.terminate()
        await process.wait()
        log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


async def wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError("the gRPC server exited; see grpc-server.log")
        try:
            _, writer = await asyncio.open_connection(LOOPBACK, port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError("the gRPC server did not start within 30 s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size-mb", type=int, default=128, help="MiB of the artifact (0: the whole image)"
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--image", default=IMAGE, help=f"the runtime image (default {IMAGE})")
    parser.add_argument("--random", action="store_true", help="random bytes, not an image")
    parser.add_argument("--skip-grpc", action="store_true", help="BitTorrent only")
    args = parser.parse_args()
    if args.size_mb < 0 or (args.random and args.size_mb == 0):
        parser.error("--size-mb must be positive (0, the whole image, only without --random)")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    with tempfile.TemporaryDirectory(prefix="hivemind-distribution-") as tmp:
        work = Path(tmp)
        source = work / "artifact.bin"
        if args.random:
            size = args.size_mb * MB
            write_random(source, size)
            artifact = "random"
        else:
            size, whole = await asyncio.to_thread(save_image, args.image, source, args.size_mb * MB)
            artifact = f"docker save {args.image}"
            if size < whole:
                artifact += f", its first {size // MB} MiB of {whole // MB}"
        result: dict[str, object] = {
            "artifact": artifact,
            "size_bytes": size,
            "workers": args.workers,
        }
        result.update(await bench_bittorrent(source, size, args.workers, work / "bt"))
        if args.skip_grpc:
            result.update({"grpc_seconds": None, "grpc_server_bytes": None})
        else:
            result.update(await bench_grpc(source, size, args.workers, work / "grpc"))
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
