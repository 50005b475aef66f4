"""What the app and the server share besides the wire contract: digests, CPT units, torrent
metadata, runtime archives, network helpers. Imports neither `app` nor `server`."""
