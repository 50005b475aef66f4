"""Job packages: bad ones are refused with a clear message and nothing is stored."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import grpc
import pytest

from proto.hivemind.v1 import artifact_pb2, common_pb2
from server.jobs.packages import InvalidPackage, PackageLimits, extract_package, validate_package
from tests.kit.stubs import Stubs, make_package, make_zip, sha256, upload

LIMITS = PackageLimits(max_unpacked_bytes=1024 * 1024, max_entries=50, max_ratio=100)


@pytest.fixture
def server_settings() -> dict:
    return {"max_package_bytes": 1024 * 1024, "max_package_entries": 50, "max_package_ratio": 100}


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    return Stubs(grpc_channel)


def _bomb() -> bytes:
    # 900 KB of zeros deflates to about 1 KB: far more than 100x expansion.
    return make_zip({"hivemind.toml": b"", "zeros.bin": b"\0" * (900 * 1024)})


def _stored_files(server) -> list[Path]:
    root = server.settings.artifacts_dir
    return [p for p in root.rglob("*") if p.is_file()]


def _corrupt() -> bytes:
    data = bytearray(make_zip({"hivemind.toml": b"x = 1\n", "main.py": os.urandom(2000)}))
    entry = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("main.py")
    data[entry.header_offset + 30 + len("main.py") + 100] ^= 0xFF  # inside its data: bad CRC
    return bytes(data)


def _raw_entry(name: str) -> bytes:
    """A zip whose entry name is written as-is (zipfile would not normalise it here)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hivemind.toml", b"")
        archive.writestr(zipfile.ZipInfo(name), b"evil")
    return buffer.getvalue()


BAD_PACKAGES = {
    "escaping path": (_raw_entry("../../etc/cron.d/x"), "escapes the package directory"),
    "absolute path": (_raw_entry("/etc/passwd"), "has an absolute path"),
    "windows drive": (_raw_entry("C:/Windows/x"), "has an absolute path"),
    "symlink": (
        make_zip({"hivemind.toml": b""}, symlinks={"data": "/etc/shadow"}),
        "is a symlink",
    ),
    "zip bomb": (_bomb(), "refused as a zip bomb"),
    "oversize": (
        make_zip({"hivemind.toml": b"", "big.bin": bytes(range(256)) * 6000}),
        "unpacks to more than 1048576 bytes",
    ),
    "too many entries": (
        make_zip({"hivemind.toml": b"", **{f"f{i}": b"x" for i in range(60)}}),
        "61 entries (at most 50 allowed)",
    ),
    "no manifest": (make_zip({"main.py": b"print(1)"}), "no hivemind.toml at the root"),
    "manifest in a folder": (
        make_zip({"job/hivemind.toml": b""}),
        "no hivemind.toml at the root",
    ),
    "not a zip": (b"#!/bin/sh\nrm -rf /\n", "not a readable zip archive"),
    "corrupt zip": (_corrupt(), "not a readable zip archive"),
    "bad manifest": (make_zip({"hivemind.toml": b"name = \n"}), "is not valid TOML"),
    # Once INTERNAL (tomllib's RecursionError), and a chain of tables thousands deep.
    "deeply nested arrays": (
        make_zip({"hivemind.toml": b"a = " + b"[" * 5000 + b"]" * 5000}),
        "hivemind.toml is nested more than 32 levels deep",
    ),
    "deeply nested tables": (
        make_zip({"hivemind.toml": b".".join([b"a"] * 5000) + b" = 1"}),
        "hivemind.toml is nested more than 32 levels deep",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PACKAGES))
async def test_bad_packages_are_rejected_and_nothing_is_stored(server, user_session, stubs, case):
    data, expected = BAD_PACKAGES[case]
    alice = await user_session(server, "alice")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stubs, alice.metadata, data)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in caught.value.details()
    assert caught.value.details().startswith("invalid package")
    assert "\n" not in caught.value.details()
    info = await stubs.artifacts.Stat(
        artifact_pb2.StatRequest(digest=sha256(data)), metadata=alice.metadata
    )
    assert not info.exists
    assert _stored_files(server) == []


async def test_the_same_bytes_as_an_input_are_fine(server, user_session, stubs):
    alice = await user_session(server, "alice")
    data = BAD_PACKAGES["no manifest"][0]
    info = await upload(stubs, alice.metadata, data, common_pb2.ARTIFACT_KIND_INPUT)
    assert info.exists and info.kind == common_pb2.ARTIFACT_KIND_INPUT


async def test_a_good_package_is_stored(server, user_session, stubs):
    alice = await user_session(server, "alice")
    data = make_package({"lib/util.py": b"X = 1\n"})
    info = await upload(stubs, alice.metadata, data, name="job.zip")
    assert info.exists and info.size == len(data) and info.name == "job.zip"
    assert info.kind == common_pb2.ARTIFACT_KIND_PACKAGE


def test_validate_reads_the_manifest(tmp_path: Path):
    path = tmp_path / "p.zip"
    path.write_bytes(make_zip({"hivemind.toml": b'name = "pi"\n[run]\ncores = 2\n', "a/b.py": b""}))
    info = validate_package(path, LIMITS)
    assert info.manifest == {"name": "pi", "run": {"cores": 2}}
    assert info.entries == 2


def test_extract_writes_inside_the_destination_only(tmp_path: Path):
    good = tmp_path / "good.zip"
    good.write_bytes(make_package({"pkg/data.txt": b"hello"}))
    dest = tmp_path / "out"
    extract_package(good, dest, LIMITS)
    assert (dest / "pkg" / "data.txt").read_text() == "hello"
    assert (dest / "hivemind.toml").exists()

    bad = tmp_path / "bad.zip"
    bad.write_bytes(_raw_entry("../escaped.txt"))
    with pytest.raises(InvalidPackage, match="escapes"):
        extract_package(bad, tmp_path / "out2", LIMITS)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "out2").exists()
