"""Safe zip extraction for the client side: job packages a worker runs, results a submitter
downloads. An archive comes from someone else's machine, so every entry is checked before
anything is written: no absolute paths, no `..`, no symlinks, no device files, bounded size,
entry count and expansion ratio (zip bombs). A rejected archive leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MB = 1024 * 1024
_COPY_CHUNK = 1024 * 1024


class UnsafeArchive(ValueError):
    """The archive is corrupt or would write outside its folder, or too much."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int = 512 * MB  # unpacked, all entries together
    max_entries: int = 10_000
    max_ratio: int = 100  # unpacked / packed
    # Below this an archive cannot be a bomb worth the name; small highly compressible
    # results (a file of zeros) stay welcome.
    ratio_applies_above: int = 8 * MB


def _entry_path(name: str) -> PurePosixPath:
    """The entry's relative path, or UnsafeArchive saying why not."""
    if "\x00" in name:
        raise UnsafeArchive(f"entry {name!r} has a NUL byte in its name")
    # Some Windows tools write backslashes; treat them as separators so "..\\x" is caught.
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise UnsafeArchive(f"entry {name!r} has an absolute path")
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeArchive(f"entry {name!r} escapes the archive (..)")
    if not parts:
        raise UnsafeArchive(f"entry {name!r} has an empty name")
    return PurePosixPath(*parts)


def check_archive(zip_path: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[zipfile.ZipInfo]:
    """Validates every entry without extracting; returns the entries to extract."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchive(f"not a valid zip archive: {exc}") from None
    with archive:
        infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeArchive(
            f"archive has {len(infos)} entries; at most {limits.max_entries} allowed"
        )
    seen: set[PurePosixPath] = set()
    total = 0
    for info in infos:
        path = _entry_path(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeArchive(f"entry {info.filename!r} is a symbolic link")
        # Many tools store permission bits only (no file type): that is a regular file.
        kind = stat.S_IFMT(mode)
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchive(f"entry {info.filename!r} is not a regular file")
        if path in seen and not info.is_dir():
            raise UnsafeArchive(f"entry {info.filename!r} appears twice")
        seen.add(path)
        total += info.file_size
        if total > limits.max_bytes:
            raise UnsafeArchive(
                f"archive unpacks to more than {limits.max_bytes // MB} MB; that is the limit"
            )
    packed = max(1, Path(zip_path).stat().st_size)
    if total > limits.ratio_applies_above and total / packed > limits.max_ratio:
        raise UnsafeArchive(
            f"archive expands {total // packed}x ({total // MB} MB from {packed} bytes): "
            f"looks like a zip bomb (limit {limits.max_ratio}x)"
        )
    return infos


def safe_extract(zip_path: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[Path]:
    """Extracts `zip_path` into `dest` (created; must be empty or absent) after checking it.
    Returns the files written. On any problem raises UnsafeArchive and removes `dest`."""
    infos = check_archive(zip_path, limits)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise UnsafeArchive(f"destination {dest} is not empty")
    root = dest.resolve()
    written: list[Path] = []
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in infos:
                relative = _entry_path(info.filename)
                target = root.joinpath(*relative.parts)
                if not target.resolve().is_relative_to(root):
                    raise UnsafeArchive(f"entry {info.filename!r} escapes the archive")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_entry(archive, info, target)
                executable = bool((info.external_attr >> 16) & 0o111)
                target.chmod(0o755 if executable else 0o644)
                written.append(target)
    except UnsafeArchive:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise UnsafeArchive(f"cannot extract {Path(zip_path).name}: {exc}") from None
    return written


def _copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    # The declared size bounds what zipfile returns and the CRC is checked at the end; the
    # byte count here is a second fence should either be bypassed.
    remaining = info.file_size
    with archive.open(info) as source, open(target, "xb") as out:
        while True:
            chunk = source.read(_COPY_CHUNK)
            if not chunk:
                break
            remaining -= len(chunk)
            if remaining < 0:
                raise UnsafeArchive(f"entry {info.filename!r} is larger than it declares")
            out.write(chunk)


def make_read_only(root: Path) -> None:
    """Files 0444, folders 0555: a task cannot change its own package, as inside Docker."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            os.chmod(path, 0o555 if mode & 0o111 else 0o444)
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o555)
    os.chmod(root, 0o555)


def remove_tree(root: Path) -> None:
    """rmtree that also removes what `make_read_only` protected."""

    def allow_and_retry(func, path, _exc):
        try:
            os.chmod(os.path.dirname(path), 0o755)
            os.chmod(path, 0o755)
            func(path)
        except OSError:
            pass

    if Path(root).exists():
        shutil.rmtree(root, onerror=allow_and_retry)
