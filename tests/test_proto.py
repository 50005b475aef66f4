"""The committed gRPC stubs are what `make proto` generates from the committed .proto files.

Edit a .proto, forget `make proto`, and this fails naming the stale files.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from tests.kit.ci import unavailable
from tests.kit.paths import REPO_ROOT

PROTO_DIR = Path("proto/hivemind/v1")
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def test_committed_stubs_match_the_proto_files(tmp_path):
    if importlib.util.find_spec("grpc_tools") is None:
        unavailable("proto", "grpcio-tools is a dev dependency (make venv)")
    # Same layout and flags as `make proto`, so import paths in the stubs come out the same.
    work = tmp_path / "tree"
    (work / PROTO_DIR).mkdir(parents=True)
    protos = sorted((REPO_ROOT / PROTO_DIR).glob("*.proto"))
    assert protos, "no .proto files found"
    for proto in protos:
        shutil.copy(proto, work / PROTO_DIR / proto.name)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I",
            ".",
            "--python_out=.",
            "--pyi_out=.",
            "--grpc_python_out=.",
            *(str(PROTO_DIR / p.name) for p in protos),
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr

    generated = {
        p.name: p.read_text()
        for p in (work / PROTO_DIR).iterdir()
        if p.name.endswith(GENERATED_SUFFIXES)
    }
    committed = {
        p.name: p.read_text()
        for p in (REPO_ROOT / PROTO_DIR).iterdir()
        if p.name.endswith(GENERATED_SUFFIXES)
    }
    stale = sorted(name for name in generated if committed.get(name) != generated[name])
    missing = sorted(set(generated) - set(committed))
    extra = sorted(set(committed) - set(generated))
    assert not (stale or extra), (
        f"stubs out of date: {stale or missing}; stubs without a .proto: {extra}. Run `make proto`."
    )
