"""`hivemind demo`: a whole network on this machine, for a minute, then gone."""
