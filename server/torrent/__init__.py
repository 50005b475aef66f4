"""The server's BitTorrent seeder: seeds stored artifacts, pulls results."""

from server.torrent.metainfo import make_torrent
from server.torrent.seeder import Seeder, SeederStats, SeedInfo

__all__ = ["SeedInfo", "Seeder", "SeederStats", "make_torrent"]
