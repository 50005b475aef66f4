"""The RUNTIME artifact's format: one image as written by `docker save` (a tar, possibly
gzipped), with `manifest.json` naming the image's config and layers.

Both sides read it the same way: the server records the image id when an admin adds the
archive, and a worker checks that the archive it fetched holds that very image before it
`docker load`s it. Docker's image id is the SHA-256 of the image config, which names every
layer by the digest of its content, so the id pins the whole image. Nothing is extracted here:
members are only looked up by name and the config is read into memory (size-capped).
Blocking (it reads the whole tar's headers): call it from a thread when on an event loop.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from common.digests import is_digest

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_CONFIG_BYTES = 16 * 1024 * 1024


class ImageArchiveError(ValueError):
    """The file is not a one-image `docker save` archive; the message says what is wrong."""


@dataclass(frozen=True)
class ImageArchive:
    image_id: str  # "sha256:<hex>": the digest of the image config, as `docker images` shows
    repo_tags: tuple[str, ...]  # the names it was saved under (may be empty)
    layers: int

    @property
    def reference(self) -> str:
        """The name to show for the image: its first tag, else its id."""
        return self.repo_tags[0] if self.repo_tags else self.image_id


def _member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo, limit: int, what: str) -> bytes:
    if member.size > limit:
        raise ImageArchiveError(f"{what} is {member.size} bytes, more than {limit} allowed")
    handle = archive.extractfile(member)
    if handle is None:
        raise ImageArchiveError(f"{what} is not a file in the archive")
    with handle:
        return handle.read(limit + 1)


def _manifest_entry(raw: bytes) -> dict:
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageArchiveError(f"manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise ImageArchiveError("manifest.json is not a list of images")
    if len(manifest) != 1:
        raise ImageArchiveError(
            f"the archive holds {len(manifest)} images; a runtime is exactly one"
            " (docker save IMAGE)"
        )
    return manifest[0]


def _expected_digest(config_name: str) -> str | None:
    """The digest a config's file name promises: `<hex>.json` (classic `docker save`) or
    `blobs/sha256/<hex>` (OCI layout)."""
    base = config_name.rsplit("/", 1)[-1].removesuffix(".json")
    return base if is_digest(base) else None


def read_image_archive(path: Path | str) -> ImageArchive:
    """The image a `docker save` archive holds; ImageArchiveError when it is not one."""
    try:
        with tarfile.open(path, "r:*") as archive:
            members = {_member_name(m.name): m for m in archive.getmembers()}
            manifest = members.get("manifest.json")
            if manifest is None:
                raise ImageArchiveError("no manifest.json: not made by `docker save`")
            entry = _manifest_entry(
                _read_member(archive, manifest, MAX_MANIFEST_BYTES, "manifest.json")
            )
            config_name = entry.get("Config")
            layers = entry.get("Layers") or []
            tags = entry.get("RepoTags") or []
            if not isinstance(config_name, str) or not config_name:
                raise ImageArchiveError("manifest.json names no image config")
            if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
                raise ImageArchiveError("manifest.json has a malformed layer list")
            if not isinstance(tags, list) or not all(isinstance(x, str) for x in tags):
                raise ImageArchiveError("manifest.json has a malformed tag list")
            config = members.get(_member_name(config_name))
            if config is None:
                raise ImageArchiveError(f"the image config {config_name} is missing")
            digest = hashlib.sha256(
                _read_member(archive, config, MAX_CONFIG_BYTES, "the image config")
            ).hexdigest()
            promised = _expected_digest(config_name)
            if promised is not None and promised != digest:
                raise ImageArchiveError(
                    f"the image config {config_name} does not match its name: damaged archive"
                )
            for layer in layers:
                if _member_name(layer) not in members:
                    raise ImageArchiveError(f"layer {layer} named in manifest.json is missing")
    except (tarfile.TarError, EOFError):
        raise ImageArchiveError(
            "not a readable tar archive (make one with `docker save IMAGE -o FILE`)"
        ) from None
    except OSError as exc:
        raise ImageArchiveError(f"cannot read the archive: {exc.strerror or exc}") from None
    return ImageArchive(image_id=f"sha256:{digest}", repo_tags=tuple(tags), layers=len(layers))
