"""Helpers for the runtime tests: `docker save`-shaped archives built in Python (no Docker
needed), the artifacts a data dir stores, and a tiny real image for the Docker tests. The admin
CLI as a real subprocess is tests/kit/admin.py."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SavedImage:
    path: Path
    image_id: str  # sha256:<hex> of the config
    tag: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def fake_saved_image(
    path: Path,
    *,
    tag: str = "hivemind-test/fake:1",
    images: int = 1,
    tamper_config: bool = False,
    drop_layer: bool = False,
    manifest: bytes | None = None,
) -> SavedImage:
    """A file shaped like `docker save` output (classic layout): manifest.json, the config
    as <sha256>.json and one layer tar. Unique content each call, so a unique image id."""
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w") as layer:
        _add(layer, "hello.txt", f"hello {uuid.uuid4()}\n".encode())
    layer_bytes = layer_buffer.getvalue()
    layer_digest = hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
        }
    ).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    entries = [
        {
            "Config": f"{config_digest}.json",
            "RepoTags": [tag],
            "Layers": [f"{layer_digest}/layer.tar"],
        }
    ] * images
    with tarfile.open(path, "w") as archive:
        _add(archive, f"{config_digest}.json", config + (b" " if tamper_config else b""))
        if not drop_layer:
            _add(archive, f"{layer_digest}/layer.tar", layer_bytes)
        _add(archive, "manifest.json", manifest or json.dumps(entries).encode())
    return SavedImage(path, f"sha256:{config_digest}", tag)


def stored_files(data_dir: Path) -> list[Path]:
    root = data_dir / "artifacts"
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"
    )


def tiny_root_tar(path: Path) -> Path:
    """A root file system with only /bin/sh (this machine's dash) and the libraries it needs:
    a real image of ~2 MB, quick to import, save, send and load."""
    shell = Path(shutil.which("dash") or "/bin/dash").resolve()
    libraries = []
    listed = subprocess.run(["ldd", str(shell)], capture_output=True, text=True, check=True)
    for line in listed.stdout.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libraries.append(word)
    with tarfile.open(path, "w") as archive:
        archive.add(shell, arcname="bin/sh")
        for library in libraries:
            archive.add(Path(library).resolve(), arcname=library.lstrip("/"))
    return path


def build_tiny_image(client: Any, workdir: Path) -> SavedImage:
    """Imports the tiny root as a fresh image (unique tag and id), saves it with
    `docker save` and removes it from Docker, as on a worker that never had it."""
    tag = f"hivemind-test/tiny-{uuid.uuid4().hex[:10]}:1"
    root = tiny_root_tar(workdir / "tiny-root.tar")
    subprocess.run(["docker", "import", str(root), tag], check=True, capture_output=True)
    saved = workdir / "tiny-image.tar"
    subprocess.run(["docker", "save", tag, "-o", str(saved)], check=True, capture_output=True)
    image_id = client.images.get(tag).id
    client.images.remove(image_id, force=True)
    return SavedImage(saved, image_id, tag)
