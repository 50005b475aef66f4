"""What the app and the server share besides the wire contract: digests, CPT units, torrent
metadata, runtime archives, network helpers. Imports neither `app` nor `server`, and loads
libtorrent only to make or read a torrent (tests/test_common.py checks both)."""
