"""Job packages: a zip with `hivemind.toml` at its root, checked before anything trusts it.

A package comes from a stranger and will be unpacked on other strangers' machines, so it is
refused when any entry could escape the directory it is unpacked into (absolute paths,
`..`, drive letters), is a symlink, is encrypted, or when the archive is corrupt or would
unpack to more than the limits allow (size, entry count, expansion ratio of a zip bomb).
Sizes are counted while really decompressing: the sizes written in a zip header can lie.

Blocking (file I/O and decompression): call from a thread, never on the event loop.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from common import bounded_toml
from server.config import ServerSettings
from server.errors import InvalidArgument

MANIFEST_NAME = "hivemind.toml"
MAX_MANIFEST_BYTES = 64 * 1024
_READ_BLOCK = 256 * 1024


@dataclass(frozen=True)
class PackageLimits:
    max_unpacked_bytes: int
    max_entries: int
    max_ratio: int

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> PackageLimits:
        return cls(
            max_unpacked_bytes=settings.max_package_bytes,
            max_entries=settings.max_package_entries,
            max_ratio=settings.max_package_ratio,
        )


@dataclass(frozen=True)
class PackageInfo:
    entries: int
    unpacked_bytes: int
    manifest: dict


class InvalidPackage(InvalidArgument):
    """A package that must not be stored or run; the message says why, in one line."""


def entry_path(name: str) -> PurePosixPath:
    """The relative path an entry unpacks to, or InvalidPackage if it would escape."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise InvalidPackage(f"invalid package: entry {name!r} has an absolute path")
    parts = [part for part in normalized.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidPackage(f"invalid package: entry {name!r} escapes the package directory")
    if "\x00" in normalized:
        raise InvalidPackage(f"invalid package: entry {name!r} has a NUL byte in its name")
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # Zips made on Unix keep the file mode in the high 16 bits of the external attributes;
    # unpackers such as Info-ZIP honour it whatever the "made by" system says.
    return stat.S_ISLNK(info.external_attr >> 16)


def _check_headers(archive: zipfile.ZipFile, packed_size: int, limits: PackageLimits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise InvalidPackage(
            f"invalid package: {len(infos)} entries (at most {limits.max_entries} allowed)"
        )
    for info in infos:
        entry_path(info.filename)
        if _is_symlink(info):
            raise InvalidPackage(
                f"invalid package: entry {info.filename!r} is a symlink (not allowed)"
            )
        if info.flag_bits & 0x1:
            raise InvalidPackage(f"invalid package: entry {info.filename!r} is encrypted")
    declared = sum(info.file_size for info in infos)
    _check_totals(declared, packed_size, limits)


def _check_totals(unpacked: int, packed_size: int, limits: PackageLimits) -> None:
    if unpacked > limits.max_unpacked_bytes:
        raise InvalidPackage(
            f"invalid package: unpacks to more than {limits.max_unpacked_bytes} bytes "
            f"(at least {unpacked})"
        )
    if unpacked > max(packed_size, 1) * limits.max_ratio:
        raise InvalidPackage(
            f"invalid package: expands more than {limits.max_ratio} times its size "
            f"({packed_size} bytes packed, {unpacked}+ unpacked): refused as a zip bomb"
        )


def validate_package(zip_path: Path, limits: PackageLimits) -> PackageInfo:
    """Checks a package fully (headers, then every byte decompressed and CRC-checked)."""
    packed_size = Path(zip_path).stat().st_size
    try:
        with zipfile.ZipFile(zip_path) as archive:
            _check_headers(archive, packed_size, limits)
            names = {entry_path(info.filename) for info in archive.infolist()}
            if PurePosixPath(MANIFEST_NAME) not in names:
                raise InvalidPackage(
                    f"invalid package: no {MANIFEST_NAME} at the root of the zip "
                    "(package the folder that contains it)"
                )
            unpacked = 0
            manifest_bytes = b""
            for info in archive.infolist():
                if info.is_dir():
                    continue
                is_manifest = entry_path(info.filename) == PurePosixPath(MANIFEST_NAME)
                with archive.open(info) as entry:
                    while block := entry.read(_READ_BLOCK):
                        unpacked += len(block)
                        _check_totals(unpacked, packed_size, limits)
                        if is_manifest and len(manifest_bytes) <= MAX_MANIFEST_BYTES:
                            manifest_bytes += block
            manifest = _parse_manifest(manifest_bytes)
            return PackageInfo(len(names), unpacked, manifest)
    except InvalidPackage:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        raise InvalidPackage(f"invalid package: not a readable zip archive ({error})") from None
    except NotImplementedError as error:  # an unsupported compression method
        raise InvalidPackage(f"invalid package: {error}") from None


def _parse_manifest(data: bytes) -> dict:
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidPackage(
            f"invalid package: {MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES} bytes"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"invalid package: {MANIFEST_NAME} is not valid TOML ({error})"
        raise InvalidPackage(message) from None
    try:
        return bounded_toml.loads(text)
    except bounded_toml.TomlError as error:
        raise InvalidPackage(f"invalid package: {MANIFEST_NAME} is {error}") from None


def extract_package(zip_path: Path, dest: Path, limits: PackageLimits) -> PackageInfo:
    """Validates, then unpacks into `dest` (created), writing only regular files and
    directories inside it. A half-written `dest` is removed when anything goes wrong."""
    info = validate_package(zip_path, limits)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=False)
    root = dest.resolve()
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for entry in archive.infolist():
                target = (root / entry_path(entry.filename)).resolve()
                if target != root and root not in target.parents:
                    raise InvalidPackage(f"invalid package: entry {entry.filename!r} escapes")
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with archive.open(entry) as source, open(target, "xb") as sink:
                        shutil.copyfileobj(source, sink, _READ_BLOCK)
                except FileExistsError:
                    raise InvalidPackage(
                        f"invalid package: entry {entry.filename!r} appears twice"
                    ) from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return info
