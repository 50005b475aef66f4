"""`hivemind-server admin runtime add` as an admin uses it (real subprocesses, a real data
dir): an image archive stored as a RUNTIME artifact with its image id, a reference pinned by
digest, and every bad input refused in one line with nothing changed. No Docker needed."""

from __future__ import annotations

import hashlib
import json

import grpc
import pytest

from proto.hivemind.v1 import artifact_pb2, artifact_pb2_grpc, node_pb2, node_pb2_grpc
from tests.kit.admin import admin_fails, admin_json
from tests.runtimes.runtimekit import fake_saved_image, stored_files

PASSWORD = "admin-password-1"
PINNED = "registry.example/python@sha256:" + "ab" * 32


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    admin_json(data, "create-user", "root", "--admin", "--password-stdin", stdin=PASSWORD)
    return data


def runtimes_of(data_dir) -> dict[str, dict]:
    return {r["name"]: r for r in admin_json(data_dir, "runtime", "list")["runtimes"]}


def test_an_archive_becomes_a_runtime_artifact_pinned_by_its_image_id(data_dir, tmp_path):
    saved = fake_saved_image(tmp_path / "image.tar", tag="hivemind/science:2")

    added = admin_json(data_dir, "runtime", "add", "science-2", "--image-archive", str(saved.path))

    runtime = added["runtime"]
    assert runtime["image"] == "hivemind/science:2"
    assert runtime["image_id"] == saved.image_id
    assert runtime["archive_digest"] == saved.digest
    [stored] = stored_files(data_dir)
    assert stored.name == saved.digest
    assert stored.read_bytes() == saved.path.read_bytes()
    assert runtimes_of(data_dir)["science-2"] == runtime
    # Adding it again changes nothing; the bytes are stored once.
    again = admin_json(data_dir, "runtime", "add", "science-2", "--image-archive", str(saved.path))
    assert again["runtime"]["archive_digest"] == saved.digest
    assert len(stored_files(data_dir)) == 1


def test_a_new_archive_re_pins_the_runtime(data_dir, tmp_path):
    first = fake_saved_image(tmp_path / "one.tar")
    second = fake_saved_image(tmp_path / "two.tar")
    admin_json(data_dir, "runtime", "add", "rt", "--image-archive", str(first.path))
    admin_json(data_dir, "runtime", "add", "rt", "--image-archive", str(second.path))
    runtime = runtimes_of(data_dir)["rt"]
    assert (runtime["image_id"], runtime["archive_digest"]) == (second.image_id, second.digest)


def test_a_reference_must_be_pinned(data_dir, tmp_path):
    before = runtimes_of(data_dir)
    error = admin_fails(data_dir, "runtime", "add", "py", "--image", "python:3.12")
    assert error.startswith("error: image 'python:3.12' is not pinned")
    assert "REPOSITORY@sha256:" in error
    assert runtimes_of(data_dir) == before

    added = admin_json(data_dir, "runtime", "add", "py", "--image", PINNED)["runtime"]
    assert (added["image"], added["archive_digest"]) == (PINNED, "")
    by_id = admin_json(
        data_dir, "runtime", "add", "py2", "--image", "python:3.12", "--image-id",
        "sha256:" + "cd" * 32,
    )  # fmt: skip
    assert by_id["runtime"]["image_id"] == "sha256:" + "cd" * 32


def test_a_stored_archive_pins_a_reference_by_its_digest(data_dir, tmp_path):
    saved = fake_saved_image(tmp_path / "image.tar")
    admin_json(data_dir, "runtime", "add", "rt", "--image-archive", str(saved.path))
    added = admin_json(
        data_dir, "runtime", "add", "rt-alias", "--image", "my/alias:1",
        "--archive-digest", saved.digest,
    )["runtime"]  # fmt: skip
    assert (added["image_id"], added["archive_digest"]) == (saved.image_id, saved.digest)

    unknown = "0" * 64
    assert f"no artifact {unknown}" in admin_fails(
        data_dir, "runtime", "add", "x", "--image", "a:1", "--archive-digest", unknown
    )
    wrong_id = admin_fails(
        data_dir, "runtime", "add", "x", "--image", "a:1", "--archive-digest", saved.digest,
        "--image-id", "sha256:" + "ef" * 32,
    )  # fmt: skip
    assert f"holds image {saved.image_id}, not sha256:{'ef' * 32}" in wrong_id
    assert "x" not in runtimes_of(data_dir)


def test_bad_archives_are_refused_and_nothing_is_stored(data_dir, tmp_path):
    before = runtimes_of(data_dir)
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hello")
    two = fake_saved_image(tmp_path / "two.tar", images=2).path
    tampered = fake_saved_image(tmp_path / "tampered.tar", tamper_config=True).path
    no_layer = fake_saved_image(tmp_path / "nolayer.tar", drop_layer=True).path
    bad_json = fake_saved_image(tmp_path / "badjson.tar", manifest=b"{not json").path
    cases = {
        not_tar: "not a readable tar archive",
        two: "holds 2 images; a runtime is exactly one",
        tampered: "does not match its name: damaged archive",
        no_layer: "layer.tar named in manifest.json is missing",
        bad_json: "manifest.json is not valid JSON",
        tmp_path / "missing.tar": "no such file",
    }
    for path, expected in cases.items():
        error = admin_fails(data_dir, "runtime", "add", "rt", "--image-archive", str(path))
        assert expected in error, (path.name, error)
    good = fake_saved_image(tmp_path / "good.tar")
    assert "invalid runtime name 'Bad Name'" in admin_fails(
        data_dir, "runtime", "add", "Bad Name", "--image-archive", str(good.path)
    )
    assert "go with --image" in admin_fails(
        data_dir,
        "runtime",
        "add",
        "rt",
        "--image-archive",
        str(good.path),
        "--image-id",
        "sha256:1",
    )
    assert stored_files(data_dir) == []
    assert runtimes_of(data_dir) == before


async def test_any_node_may_fetch_a_runtime_archive_but_a_user_may_not(
    server, user_session, tmp_path
):
    """Added while the server runs; a node reads it through the ordinary Download RPC."""
    saved = fake_saved_image(tmp_path / "image.tar")
    data_dir = server.settings.data_dir
    admin_json(data_dir, "runtime", "add", "rt", "--image-archive", str(saved.path))
    bob = await user_session(server, "bob")
    async with grpc.aio.insecure_channel(server.address) as channel:
        nodes = node_pb2_grpc.NodeServiceStub(channel)
        artifacts = artifact_pb2_grpc.ArtifactServiceStub(channel)
        reply = await nodes.RegisterNode(
            node_pb2.RegisterNodeRequest(name="box", executors=["docker"]), metadata=bob.metadata
        )
        node = (("authorization", f"Node {reply.node_id}.{reply.node_secret}"),)
        request = artifact_pb2.DownloadRequest(digest=saved.digest)
        data = b"".join([c.data async for c in artifacts.Download(request, metadata=node)])
        assert hashlib.sha256(data).hexdigest() == saved.digest
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in artifacts.Download(request, metadata=bob.metadata):
                pass
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    listed = json.loads(json.dumps(runtimes_of(data_dir)["rt"]))
    assert listed["archive_digest"] == saved.digest
