"""Artifact torrents are a pure function of the bytes: the server and a worker that make one
independently get the same info hash, so they meet in one swarm."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.torrent import InvalidTorrent, make_torrent
from app.services.torrent.metainfo import piece_size_for, read_torrent
from server.errors import InvalidArgument
from server.torrent import make_torrent as server_make_torrent
from tests.torrent.swarmkit import MB, write_artifact

pytestmark = pytest.mark.torrent


@pytest.mark.parametrize("size", [1, 256 * 1024, 256 * 1024 + 1, 3 * MB + 5])
def test_server_and_worker_make_the_same_torrent(tmp_path: Path, size: int) -> None:
    path = tmp_path / "artifact.bin"
    digest = write_artifact(path, size)

    worker_side = make_torrent(path)
    server_side = server_make_torrent(path)

    assert worker_side.torrent == server_side.torrent
    assert worker_side.info_hash == server_side.info_hash
    assert worker_side.digest == server_side.digest == digest
    _, summary = read_torrent(worker_side.torrent)
    assert (summary.name, summary.size) == (digest, size)


def test_the_file_name_does_not_change_the_torrent(tmp_path: Path) -> None:
    first = tmp_path / "result.zip"
    write_artifact(first, 100_000)
    second = tmp_path / "other-name"
    second.write_bytes(first.read_bytes())
    assert make_torrent(first).info_hash == make_torrent(second).info_hash


def test_pieces_grow_with_size_within_bounds() -> None:
    assert piece_size_for(1) == 256 * 1024
    assert piece_size_for(64 * MB) == 256 * 1024
    assert piece_size_for(1024 * MB) == 1 * MB
    assert piece_size_for(100 * 1024 * MB) == 4 * MB


def test_an_empty_file_cannot_be_a_torrent(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(InvalidTorrent, match="empty"):
        make_torrent(empty)
    with pytest.raises(InvalidArgument, match="empty"):
        server_make_torrent(empty)
