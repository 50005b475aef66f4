"""Resume data on disk: `<state_dir>/<info_hash>.resume` (libtorrent's own format, with the
metadata inside) and `<info_hash>.json` (which artifact it is, and whether its SHA-256 was
verified). `save_all` runs on the event loop; the others block: call them in a thread."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from app.services.torrent.alerts import AlertPump
from app.services.torrent.transfer import DOWNLOADING, SEEDING, Transfer

log = logging.getLogger("hivemind.torrent")
SAVE_TIMEOUT_S = 10.0


@dataclass
class SavedTransfer:
    info_hash: str
    digest: str
    verified: bool
    params: lt.add_torrent_params
    torrent: bytes = b""
    path: Path = Path()
    size: int = 0


async def save_all(pump: AlertPump, transfers: list[Transfer], state_dir: Path) -> int:
    """Asks libtorrent for every transfer's resume data and writes it; returns how many."""
    pending = {
        t.info_hash: (t, pump.resume_data(t.handle, t.info_hash))
        for t in transfers
        if t.handle is not None and t.state in (DOWNLOADING, SEEDING)
    }
    if not pending:
        return 0
    await asyncio.wait([future for _, future in pending.values()], timeout=SAVE_TIMEOUT_S)
    saved = 0
    for info_hash, (transfer, future) in pending.items():
        data = future.result() if future.done() else None
        if data is not None:
            await asyncio.to_thread(
                write, state_dir, info_hash, transfer.digest, transfer.is_verified, data
            )
            saved += 1
    return saved


def load(state_dir: Path) -> list[SavedTransfer]:
    """Saved transfers worth resuming; a verified one whose file is gone is forgotten."""
    usable: list[SavedTransfer] = []
    for saved in read_all(state_dir):
        info = saved.params.ti
        if info is None or not info.is_valid():
            forget(state_dir, saved.info_hash)
            continue
        name = saved.params.renamed_files.get(0) or info.name()
        saved.path = Path(saved.params.save_path) / name
        if saved.verified and not saved.path.is_file():
            log.info("resumed artifact is gone digest=%s", saved.digest)
            forget(state_dir, saved.info_hash)
            continue
        saved.torrent = lt.bencode({b"info": lt.bdecode(info.info_section())})
        saved.size = info.total_size()
        saved.params.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        usable.append(saved)
    return usable


def write(state_dir: Path, info_hash: str, digest: str, verified: bool, resume: bytes) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(state_dir / f"{info_hash}.resume", resume)
    sidecar = json.dumps({"digest": digest, "verified": verified}).encode()
    _atomic_write(state_dir / f"{info_hash}.json", sidecar)


def forget(state_dir: Path, info_hash: str) -> None:
    for suffix in (".resume", ".json"):
        (state_dir / f"{info_hash}{suffix}").unlink(missing_ok=True)


def read_all(state_dir: Path) -> list[SavedTransfer]:
    """Every readable saved transfer; unreadable ones are logged and deleted."""
    saved: list[SavedTransfer] = []
    if not state_dir.is_dir():
        return saved
    for resume_file in sorted(state_dir.glob("*.resume")):
        info_hash = resume_file.stem
        try:
            sidecar = json.loads((state_dir / f"{info_hash}.json").read_text())
            params = lt.read_resume_data(resume_file.read_bytes())
            saved.append(
                SavedTransfer(info_hash, str(sidecar["digest"]), bool(sidecar["verified"]), params)
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("dropping unreadable resume data info_hash=%s error=%s", info_hash, exc)
            forget(state_dir, info_hash)
    return saved


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
