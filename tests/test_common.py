"""The shared kernel: the digest and address rules the server and the app both apply."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from common.digests import file_sha256, hash_file, is_digest, is_image_id, is_pinned_reference
from common.network import client_address, is_loopback, network_of_address, split_host_port
from server.nodes.networks import network_of
from tests.kit.paths import REPO_ROOT

HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEX, True),
        (HEX.upper(), False),  # canonical form only: callers lower-case first
        (HEX[:-1], False),
        (HEX + "0", False),
        (HEX + "\n", False),
        ("g" + HEX[1:], False),
        ("", False),
    ],
)
def test_a_digest_is_64_lower_case_hex_digits(text: str, expected: bool) -> None:
    assert is_digest(text) is expected


def test_image_ids_and_pinned_references() -> None:
    assert is_image_id(f"sha256:{HEX}")
    assert not is_image_id(HEX)
    assert is_pinned_reference(f"hivemind/python:3.11@sha256:{HEX}")
    assert not is_pinned_reference("hivemind/python:3.11")
    assert not is_pinned_reference(f"two words@sha256:{HEX}")


def test_a_file_hashes_to_the_digest_of_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data"
    data = b"x" * (3 * 1024 * 1024 + 7)  # several read blocks and a short last one
    path.write_bytes(data)
    hasher, size = hash_file(path)
    assert (hasher.hexdigest(), size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "ip6-localhost"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "example.org", "", "[::]", "::"])
def test_hosts_other_machines_reach(host: str) -> None:
    assert not is_loopback(host)


def test_host_and_port_are_split_at_the_last_colon() -> None:
    assert split_host_port("1.2.3.4:6881") == ("1.2.3.4", "6881")
    assert split_host_port("[::1]:6881") == ("::1", "6881")
    assert split_host_port(":6881") == ("", "6881")


@pytest.mark.parametrize(
    ("peer", "network"),
    [
        ("ipv4:203.0.113.7:5555", "203.0.113.0/24"),
        ("ipv6:%5B2001:db8:1:2::5%5D:5555", "2001:db8:1::/48"),  # as gRPC writes it
        ("ipv6:[::ffff:203.0.113.9]:5555", "203.0.113.0/24"),  # IPv4 through an IPv6 socket
        ("unix:/run/hivemind.sock", ""),
        ("", ""),
    ],
)
def test_one_notion_of_a_network_for_sign_ups_and_quorums(peer: str, network: str) -> None:
    """The sign-up limit (address -> network) and the quorums (peer -> network) read alike;
    a peer that is no address is no network to the one, "local" to the other."""
    assert network_of_address(client_address(peer)) == network
    assert network_of(peer) == (network or "local")
    assert network_of_address("203.0.113.7", 16, 48) == "203.0.0.0/16"
    assert network_of_address("203.0.113.7", 99, 48) == "203.0.113.7/32"  # clamped


def test_the_kernel_loads_neither_side_nor_libtorrent() -> None:
    """The server's seeder and the app's torrent client both import common/; importing it
    alone must not drag in either side, or the native libtorrent (loaded only to make or read
    a torrent)."""
    code = (
        "import sys, pkgutil, importlib, common\n"
        "for m in pkgutil.iter_modules(common.__path__):\n"
        "    importlib.import_module('common.' + m.name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'app', 'server', 'libtorrent'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
