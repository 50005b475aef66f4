"""What can go wrong fetching or sharing an artifact over BitTorrent. Each message is one
line a person understands; a caller that gets any of these can fall back to gRPC."""


class TorrentError(Exception):
    """Base of every BitTorrent error."""


class InvalidTorrent(TorrentError):
    """The metadata cannot describe an artifact (malformed, several files, empty file)."""


class TorrentStalled(TorrentError):
    """The swarm delivered nothing for too long."""


class DigestMismatch(TorrentError):
    """The finished file is not the artifact that was asked for; it has been removed."""


class TorrentFailed(TorrentError):
    """libtorrent reported an error for this torrent (disk full, file unreadable...)."""


class SessionClosed(TorrentError):
    """The BitTorrent session is closed or not started."""
