"""BitTorrent distribution of artifacts: one libtorrent session per process, a
size-capped cache of verified artifacts, and torrent helpers. No Qt here."""

from app.services.torrent.cache import ArtifactCache, CacheFull
from app.services.torrent.config import TorrentSessionSettings, kbps_to_rate
from app.services.torrent.errors import (
    DigestMismatch,
    InvalidTorrent,
    SessionClosed,
    TorrentError,
    TorrentFailed,
    TorrentStalled,
)
from app.services.torrent.fetch import TorrentFetcher, open_torrents
from app.services.torrent.metainfo import TorrentMeta, make_torrent
from app.services.torrent.session import SessionStats, TorrentSession

__all__ = [
    "ArtifactCache",
    "CacheFull",
    "DigestMismatch",
    "InvalidTorrent",
    "SessionClosed",
    "SessionStats",
    "TorrentError",
    "TorrentFailed",
    "TorrentFetcher",
    "TorrentMeta",
    "TorrentSession",
    "TorrentSessionSettings",
    "TorrentStalled",
    "kbps_to_rate",
    "make_torrent",
    "open_torrents",
]
