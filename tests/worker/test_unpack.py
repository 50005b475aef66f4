"""Safe extraction of archives from other machines, and deterministic result zips."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from app.services.unpack import (
    ArchiveLimits,
    UnsafeArchive,
    make_read_only,
    remove_tree,
    safe_extract,
)
from app.services.worker.results import pack_output


def make_zip(path: Path, entries: dict[str, bytes], symlinks: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def test_extracts_a_normal_package(tmp_path):
    archive = make_zip(
        tmp_path / "pkg.zip",
        {"hivemind.toml": b"[job]\n", "main.py": b"print(1)\n", "lib/util.py": b"X = 1\n"},
    )
    written = safe_extract(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "hivemind.toml",
        "lib/util.py",
        "main.py",
    ]
    assert (tmp_path / "out" / "lib" / "util.py").read_text() == "X = 1\n"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil.py", "escapes the archive"),
        ("lib/../../evil.py", "escapes the archive"),
        ("/etc/evil", "absolute path"),
        ("C:/evil", "absolute path"),
        ("..\\evil.py", "escapes the archive"),
    ],
)
def test_rejects_paths_leaving_the_folder(tmp_path, name, message):
    archive = make_zip(tmp_path / "bad.zip", {"main.py": b"ok", name: b"evil"})
    with pytest.raises(UnsafeArchive, match=message):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.py").exists()


def test_rejects_symlinks(tmp_path):
    archive = make_zip(tmp_path / "link.zip", {"main.py": b"ok"}, {"passwd": "/etc/passwd"})
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_rejects_zip_bombs_and_oversize(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * (20 * 1024 * 1024)})
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        safe_extract(bomb, tmp_path / "out")
    small = ArchiveLimits(max_bytes=1000)
    big = make_zip(tmp_path / "big.zip", {"a.txt": b"a" * 2000})
    with pytest.raises(UnsafeArchive, match="more than"):
        safe_extract(big, tmp_path / "out2", small)
    many = make_zip(tmp_path / "many.zip", {f"f{i}": b"" for i in range(20)})
    with pytest.raises(UnsafeArchive, match="20 entries"):
        safe_extract(many, tmp_path / "out3", ArchiveLimits(max_entries=10))


def test_rejects_corrupt_archives(tmp_path):
    not_zip = tmp_path / "junk.zip"
    not_zip.write_bytes(b"this is not a zip file at all")
    with pytest.raises(UnsafeArchive, match="not a valid zip"):
        safe_extract(not_zip, tmp_path / "out")


def test_small_compressible_results_are_welcome(tmp_path):
    # 1 MB of zeros compresses ~1000x but is far below the size where a ratio matters.
    archive = make_zip(tmp_path / "zeros.zip", {"zeros.bin": b"\0" * (1024 * 1024)})
    safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "zeros.bin").stat().st_size == 1024 * 1024


def test_read_only_package_can_still_be_removed(tmp_path):
    archive = make_zip(tmp_path / "pkg.zip", {"main.py": b"x", "sub/data.txt": b"y"})
    package = tmp_path / "pkg"
    safe_extract(archive, package)
    make_read_only(package)
    # As in Docker's read-only mount, a task cannot change its package.
    assert stat.S_IMODE((package / "main.py").stat().st_mode) == 0o444
    assert stat.S_IMODE((package / "sub").stat().st_mode) == 0o555
    remove_tree(package)
    assert not package.exists()


def test_result_zip_is_deterministic_and_skips_symlinks(tmp_path):
    out = tmp_path / "output"
    (out / "sub").mkdir(parents=True)
    (out / "b.txt").write_text("bee")
    (out / "sub" / "a.txt").write_text("ay")
    (out / "escape").symlink_to("/etc/hostname")
    assert pack_output(out, tmp_path / "one.zip") == 2
    (out / "b.txt").touch()  # a newer mtime changes nothing
    assert pack_output(out, tmp_path / "two.zip") == 2
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["b.txt", "sub/a.txt"]
    # And what a worker packs, a submitter can unpack.
    safe_extract(tmp_path / "one.zip", tmp_path / "back")
    assert (tmp_path / "back" / "sub" / "a.txt").read_text() == "ay"


def test_empty_output_packs_nothing(tmp_path):
    (tmp_path / "output").mkdir()
    assert pack_output(tmp_path / "output", tmp_path / "r.zip") == 0
