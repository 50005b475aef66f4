"""Runtime images a Docker worker does not hold yet: fetched from the server and loaded.

A lease names its runtime's image by id when the admin stored the image as a `docker save`
archive (see server/scheduling/runtime_choice.py). When that image is missing here, the worker
downloads the archive artifact (by BitTorrent when it can, else gRPC; its SHA-256 is
verified), checks that the archive holds exactly that image id, `docker load`s it and
deletes the archive (Docker keeps the image). A runtime pinned by a registry digest
(REF@sha256:...) is pulled instead.
What was learned (runtime name -> image) is kept in `<cache>/runtimes.json`, so the worker
reports the runtime as held from then on, across restarts: the scheduler then prefers it.

Runs on the worker's loop; every Docker call and all file work happen in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.services.torrent.fetch import TorrentFetcher, fetch_or_download
from common.digests import is_digest, is_image_id, is_pinned_reference
from common.runtime_archive import ImageArchiveError, read_image_archive
from proto.hivemind.v1 import node_pb2

log = logging.getLogger("app.services.worker.agent")

DOCKER_TIMEOUT_S = 600  # loading a few hundred MB is slow on a busy disk


class RuntimeUnavailable(Exception):
    """This worker cannot get the task's runtime image; the message is one line for a person."""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _check_stream(messages: Any, what: str) -> list[str]:
    """Consumes Docker's JSON progress stream; raises on an error message in it."""
    lines = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("error") or message.get("errorDetail"):
            detail = message.get("error") or message["errorDetail"].get("message", "")
            raise RuntimeUnavailable(f"{what} failed: {' '.join(str(detail).split())[:300]}")
        if message.get("stream"):
            lines.append(str(message["stream"]).strip())
    return lines


class RuntimeProvisioner:
    """Makes sure a lease's runtime image is present before its task runs.

    `executor` is the DockerExecutor (its `runtime_images` map, runtime name -> image, is what
    it reports as held); `on_change` is called when a runtime was added to that map.
    """

    def __init__(
        self,
        executor: Any,
        cache_dir: Path,
        *,
        on_change: Callable[[], None] | None = None,
        client: Any = None,
        torrents: TorrentFetcher | None = None,
    ) -> None:
        self.executor = executor
        self.folder = Path(cache_dir) / "runtimes"
        self.known_file = Path(cache_dir) / "runtimes.json"
        self.on_change = on_change
        self._client = client  # a docker.DockerClient; made on first use (that dials)
        self._client_lock = threading.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        self.torrents = torrents  # when BitTorrent is on, archives come from peers first

    # -- what this worker learned --------------------------------------------------------------

    def load_known(self) -> int:
        """Adds the runtimes learned by earlier runs to the executor's map (blocking: call it
        from a thread). Returns how many it added."""
        try:
            known = json.loads(self.known_file.read_text())
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.known_file, exc)
            return 0
        if not isinstance(known, dict):
            return 0
        added = 0
        for name, image in known.items():
            if isinstance(name, str) and isinstance(image, str) and name and image:
                self.executor.runtime_images[name] = image
                added += 1
        return added

    def _save_known(self, name: str, image: str) -> None:
        try:
            known = json.loads(self.known_file.read_text())
            if not isinstance(known, dict):
                known = {}
        except (OSError, ValueError):
            known = {}
        known[name] = image
        self.known_file.parent.mkdir(parents=True, exist_ok=True)
        temp = self.known_file.with_suffix(".tmp")
        temp.write_text(json.dumps(known, indent=2, sort_keys=True))
        os.replace(temp, self.known_file)

    async def _remember(self, name: str, image: str) -> None:
        if not name or self.executor.runtime_images.get(name) == image:
            return
        self.executor.runtime_images[name] = image
        try:
            await asyncio.to_thread(self._save_known, name, image)
        except OSError as exc:  # forgotten at restart: the next lease fetches nothing anyway
            log.warning("cannot save %s: %s", self.known_file, exc)
        log.info("runtime=%s now held here image=%s", name, image)
        if self.on_change is not None:
            self.on_change()

    # -- Docker (blocking; always called from a thread) ------------------------------------------

    def _api(self) -> Any:
        with self._client_lock:
            if self._client is None:
                import docker

                self._client = docker.from_env(timeout=DOCKER_TIMEOUT_S)
            return self._client.api

    def _image_id(self, image: str) -> str | None:
        """The id of `image` here, or None when Docker does not have it."""
        import docker.errors

        try:
            return self._api().inspect_image(image)["Id"]
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.DockerException as exc:
            raise RuntimeUnavailable(
                f"cannot ask Docker for image {image}: {_one_line(exc)}"
            ) from None
        except Exception as exc:  # the daemon went away (requests' connection errors)
            raise RuntimeUnavailable(f"cannot reach the Docker daemon: {_one_line(exc)}") from None

    def _load(self, archive: Path) -> list[str]:
        try:
            with open(archive, "rb") as handle:
                return _check_stream(self._api().load_image(handle), "docker load")
        except FileNotFoundError as exc:
            raise RuntimeUnavailable(f"cannot read the runtime archive: {exc}") from None
        except RuntimeUnavailable:
            raise
        except Exception as exc:  # Docker's errors, or the daemon went away mid-load
            raise RuntimeUnavailable(f"docker load failed: {_one_line(exc)}") from None

    def _pull(self, image: str) -> None:
        try:
            _check_stream(self._api().pull(image, stream=True, decode=True), "docker pull")
        except RuntimeUnavailable:
            raise
        except Exception as exc:  # Docker's errors, or no registry reachable
            raise RuntimeUnavailable(f"cannot pull {image}: {_one_line(exc)}") from None

    # -- the one entry point -------------------------------------------------------------------

    async def ensure(self, lease: node_pb2.TaskLease, artifacts: Any) -> str:
        """The image to run the lease's task in, present in Docker; fetched (and loaded) or
        pulled when missing. RuntimeUnavailable says why not; ClientError / TransferError come
        from the download (the caller retries or reports them)."""
        image = lease.runtime_image or self.executor.runtime_images.get(lease.runtime, "")
        if not image:
            raise RuntimeUnavailable(f"the server named no image for runtime {lease.runtime!r}")
        lock = self._locks.setdefault(image, asyncio.Lock())
        async with lock:  # one fetch per image, however many of its tasks arrive at once
            if await asyncio.to_thread(self._image_id, image) is None:
                await self._fetch(lease, image, artifacts)
        await self._remember(lease.runtime, image)
        return image

    async def _fetch(self, lease: node_pb2.TaskLease, image: str, artifacts: Any) -> None:
        if lease.runtime_archive_digest:
            await self._load_archive(lease, image, artifacts)
        elif is_pinned_reference(image):
            log.info("runtime=%s pulling image=%s", lease.runtime, image)
            await asyncio.to_thread(self._pull, image)
        else:
            raise RuntimeUnavailable(
                f"runtime {lease.runtime!r} (image {image}) is not on this machine and the"
                " server offers no archive of it"
            )
        if await asyncio.to_thread(self._image_id, image) is None:
            raise RuntimeUnavailable(f"image {image} is still missing after fetching it")

    async def _load_archive(self, lease: node_pb2.TaskLease, image: str, artifacts: Any) -> None:
        digest = lease.runtime_archive_digest.lower()
        if not is_digest(digest):
            raise RuntimeUnavailable(f"the server sent a malformed archive digest {digest!r}")
        archive = self.folder / f"{digest}.tar"
        log.info("runtime=%s fetching archive=%s", lease.runtime, digest)
        await fetch_or_download(self.torrents, artifacts, digest, archive)
        try:
            try:
                held = await asyncio.to_thread(read_image_archive, archive)
            except ImageArchiveError as exc:
                raise RuntimeUnavailable(f"the runtime archive is unusable: {exc}") from None
            # The lease names the approved image by id: the archive must hold that one, or
            # nothing is loaded.
            if is_image_id(image) and held.image_id != image:
                raise RuntimeUnavailable(
                    f"the runtime archive holds image {held.image_id}, not the approved {image};"
                    " nothing loaded"
                )
            lines = await asyncio.to_thread(self._load, archive)
            log.info("runtime=%s loaded: %s", lease.runtime, "; ".join(lines) or held.image_id)
            if not is_image_id(image):
                loaded = await asyncio.to_thread(self._image_id, image)
                if loaded is not None and loaded != held.image_id:
                    raise RuntimeUnavailable(
                        f"image {image} is {loaded} here, not {held.image_id} from the archive"
                    )
        finally:
            with contextlib.suppress(OSError):  # Docker keeps the image; the tar is not needed
                await asyncio.to_thread(archive.unlink, True)
