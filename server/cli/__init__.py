"""`hivemind-server`: run the server, or administer its data dir (`main.main`)."""
