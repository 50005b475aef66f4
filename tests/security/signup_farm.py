"""A sign-up farm on one IPv4 /24 and one IPv6 /48, against a real server, inside a network
namespace of its own (run as `unshare -rn python tests/security/signup_farm.py ...` by
tests/security/test_signup_networks.py): nothing it sends leaves the namespace.

The namespace's loopback carries 127.0.0.0/8 and the IPv6 addresses added here, so clients
really come from many addresses: a small forwarder per sign-up dials the server from a chosen
source address, and the gRPC client talks to the forwarder. The server listens on [::] (both
families; IPv4 clients arrive as ::ffff:a.b.c.d), plaintext being fine in a namespace nobody
else can reach. Prints one JSON object:

    {"ipv4": {"opened": 10, "refused": 90, "refusal": "...", "other_network": "opened"},
     "ipv6": {...}, "ledger_ok": true, "signup_grants": 22}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import grpc  # noqa: E402

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc  # noqa: E402
from server.app import HiveMindServer  # noqa: E402
from server.config import ServerSettings  # noqa: E402
from server.ledger import audit  # noqa: E402

PASSWORD = "correct horse battery"
FARM_V4 = [f"127.0.0.{i}" for i in range(2, 250)]  # 127.0.0.0/24
OTHER_V4 = "127.0.1.1"
FARM_V6 = [f"2001:db8:1:{i:x}::1" for i in range(256)]  # one /48, a /64 each
OTHER_V6 = "2001:db8:2::1"


def set_up_namespace(count: int) -> None:
    """Loopback up, and the IPv6 addresses the farm and the other network dial from."""
    commands = ["link set lo up"]
    commands += [f"addr add {a}/128 dev lo" for a in [*FARM_V6[:count], OTHER_V6]]
    subprocess.run(["ip", "-batch", "-"], input="\n".join(commands), text=True, check=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def register_from(source: str, port: int, username: str) -> str:
    """Registers `username` with the connection coming from `source`: "opened", or the
    refusal's details."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    target = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    tasks: list[asyncio.Task] = []

    async def forward(client_reader, client_writer) -> None:
        upstream = socket.socket(family, socket.SOCK_STREAM)
        upstream.bind((source, 0))
        upstream.setblocking(False)
        await asyncio.get_running_loop().sock_connect(upstream, (target, port))
        up_reader, up_writer = await asyncio.open_connection(sock=upstream)
        tasks.extend(
            [
                asyncio.create_task(_pipe(client_reader, up_writer)),
                asyncio.create_task(_pipe(up_reader, client_writer)),
            ]
        )

    listener = await asyncio.start_server(forward, "127.0.0.1", 0)
    local_port = listener.sockets[0].getsockname()[1]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{local_port}") as channel:
            await auth_pb2_grpc.AuthServiceStub(channel).Register(
                auth_pb2.RegisterRequest(username=username, password=PASSWORD), timeout=30
            )
        return "opened"
    except grpc.aio.AioRpcError as error:
        return f"{error.code().name}: {error.details()}"
    finally:
        listener.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def farm(per_hour: int, signups: int, grant_ucpt: int | None) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="signup-farm-"))
    overrides = {"signup_grant_ucpt": grant_ucpt} if grant_ucpt is not None else {}
    settings = ServerSettings.load(
        data_dir,
        listen="[::]:0",
        insecure=True,
        bittorrent=False,
        registrations_per_network_hour=per_hour,
        **overrides,
    )
    server = HiveMindServer(settings)
    await server.start()
    report: dict = {}
    try:
        for family, sources, other in (("ipv4", FARM_V4, OTHER_V4), ("ipv6", FARM_V6, OTHER_V6)):
            outcomes = [
                await register_from(source, server.port, f"{family}farm{i:03d}")
                for i, source in enumerate(sources[:signups])
            ]
            refusals = sorted({o for o in outcomes if o != "opened"})
            report[family] = {
                "opened": outcomes.count("opened"),
                "refused": len(outcomes) - outcomes.count("opened"),
                "refusal": refusals[0] if refusals else "",
                "other_network": await register_from(other, server.port, f"{family}other"),
            }
        ledger = await server.ctx.db.run(audit.check_ledger)
        report["ledger_ok"] = ledger.ok
        report["total_granted_ucpt"] = ledger.total_granted_ucpt
    finally:
        await server.stop(grace=0.5)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-hour", type=int, required=True)
    parser.add_argument("--signups", type=int, default=100)
    parser.add_argument("--grant-ucpt", type=int, default=None)
    args = parser.parse_args()
    if args.signups > min(len(FARM_V4), len(FARM_V6)):
        parser.error("too many sign-ups for the farm's addresses")
    set_up_namespace(args.signups)
    print(json.dumps(asyncio.run(farm(args.per_hour, args.signups, args.grant_ucpt))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
