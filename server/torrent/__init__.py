"""The server's BitTorrent side: the seeder (seeds stored artifacts, pulls results offered by
nodes), torrents of stored artifacts, and the peers a client is pointed to."""

from server.torrent.metainfo import make_torrent
from server.torrent.seeder import Seeder, SeederStats, SeedInfo

__all__ = ["SeedInfo", "Seeder", "SeederStats", "make_torrent"]
