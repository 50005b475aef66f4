"""Job packages on the submitter's side: hivemind.toml, flags on top, deterministic zips."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from app.services.jobs.package import PackageError, build_package_zip, load_package

MANIFEST = """\
[job]
name = "primes"
runtime = "python-3.11"
command = ["python", "main.py"]
tasks = 4
replicas = 2
max_cost = "2.5"

[resources]
cores = 2
memory_mb = 512
timeout_s = 30
"""


def make_package(root: Path, manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hivemind.toml").write_text(manifest)
    (root / "main.py").write_text("print('hello')\n")
    (root / "lib").mkdir(exist_ok=True)
    (root / "lib" / "util.py").write_text("X = 1\n")
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_folder_package_and_flag_overrides(tmp_path):
    package = load_package(make_package(tmp_path / "pkg"))
    spec = package.spec
    assert (spec.name, spec.runtime, spec.command) == (
        "primes",
        "python-3.11",
        ["python", "main.py"],
    )
    assert (spec.tasks, spec.cores, spec.memory_mb, spec.timeout_s) == (4, 2, 512, 30)
    assert (spec.replicas, spec.max_cost_ucpt, spec.disk_mb) == (2, 2_500_000, 1024)

    changed = spec.with_overrides(tasks=10, cores=None, name="other", priority=2.0)
    assert (changed.tasks, changed.cores, changed.name, changed.priority) == (10, 2, "other", 2.0)
    with pytest.raises(PackageError, match="cores must be at least 1, not 0"):
        spec.with_overrides(cores=0)
    with pytest.raises(PackageError, match=r"priority must be between 0\.1 and 10"):
        spec.with_overrides(priority=50.0)


def test_name_defaults_to_the_folder_and_unknown_keys_warn(tmp_path):
    manifest = '[job]\ncommand = ["sh", "run.sh"]\ncolour = "blue"\n[extra]\nx = 1\n'
    package = load_package(make_package(tmp_path / "my-job", manifest))
    assert package.spec.name == "my-job"
    assert package.spec.tasks == 0
    assert any("[job] colour ignored" in w for w in package.warnings)
    assert any("[extra] ignored" in w for w in package.warnings)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("[job\ncommand=1", "is not valid TOML"),
        ("[resources]\ncores = 1\n", "has no [job] table"),
        ('[job]\nname = "x"\n', "[job] needs command"),
        ('[job]\ncommand = "python main.py"\n', "command must be a list of strings"),
        ("[job]\ncommand = []\n", "command must be a non-empty list of strings"),
        ('[job]\ncommand = ["x"]\n[resources]\nmemory_mb = "lots"\n', "memory_mb must be a whole"),
        ('[job]\ncommand = ["x"]\ntasks = -2\n', "tasks must be at least 0, not -2"),
        ('[job]\ncommand = ["x"]\nmax_cost = "-1"\n', "max_cost: amount must not be negative"),
        ('[job]\ncommand = ["x"]\nname = 5\n', "[job] name must be a string"),
        ("a = " + "[" * 5000 + "]" * 5000, "is nested more than 32 levels deep"),
    ],
)
def test_invalid_manifest_messages(tmp_path, manifest, message):
    root = make_package(tmp_path / "pkg", manifest)
    with pytest.raises(PackageError) as caught:
        load_package(root)
    assert message in str(caught.value)
    assert str(root / "hivemind.toml") in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_package_or_manifest(tmp_path):
    with pytest.raises(PackageError, match="no such package"):
        load_package(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackageError, match=r"has no hivemind\.toml at its root"):
        load_package(tmp_path / "empty")


def test_zip_packages(tmp_path):
    good = build_package_zip(make_package(tmp_path / "pkg"), tmp_path / "good.zip")
    assert load_package(good).spec.name == "primes"

    no_manifest = tmp_path / "bare.zip"
    with zipfile.ZipFile(no_manifest, "w") as archive:
        archive.writestr("main.py", "print(1)\n")
    with pytest.raises(PackageError, match=r"has no hivemind\.toml at its root"):
        load_package(no_manifest)

    escaping = tmp_path / "evil.zip"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("hivemind.toml", MANIFEST)
        archive.writestr("../outside.txt", "x")
    with pytest.raises(PackageError, match="would escape the package"):
        load_package(escaping)

    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("just text")
    with pytest.raises(PackageError, match="is not a zip file"):
        load_package(not_zip)


def test_same_folder_gives_the_same_archive(tmp_path):
    root = make_package(tmp_path / "pkg")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0junk")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    os.symlink("/etc/passwd", root / "passwd-link")
    warnings: list[str] = []

    first = build_package_zip(root, tmp_path / "a.zip", warnings.append)
    os.utime(root / "main.py", (1_000_000, 1_000_000))  # timestamps must not matter
    second = build_package_zip(root, tmp_path / "b.zip")

    assert sha256(first) == sha256(second)
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert names == ["hivemind.toml", "lib/util.py", "main.py", "run.sh"]
    assert modes["run.sh"] == 0o755 and modes["main.py"] == 0o644
    assert warnings == ["skipping symlink passwd-link (not packaged)"]


async def test_submit_with_a_bad_package_fails_before_contacting_anyone(tmp_path, cli):
    root = make_package(tmp_path / "pkg", '[job]\ncommand = "python main.py"\n')
    # An address nobody listens on: the package error must come first.
    result = await cli("job", "submit", str(root), "--tasks", "2", server="127.0.0.1:9")
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "command must be a list of strings" in lines[0]

    no_tasks = make_package(tmp_path / "pkg2", '[job]\ncommand = ["python", "main.py"]\n')
    result = await cli("job", "submit", str(no_tasks), server="127.0.0.1:9")
    assert result.stderr.strip() == (
        "error: say how many tasks: [job] tasks, --tasks N, or --input FILE ..."
    )
    result = await cli(
        "job", "submit", str(no_tasks), "--input", str(tmp_path / "missing.txt"),
        server="127.0.0.1:9",
    )  # fmt: skip
    assert result.code == 1 and "--input: no such file" in result.stderr
    result = await cli("job", "submit", str(no_tasks), "--tasks", "2", "--max-cost", "abc")
    assert result.code == 1 and result.stderr.startswith("error: --max-cost: not an amount")
