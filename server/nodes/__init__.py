"""Nodes: the registry (registration, facts, heartbeats, listing), node credentials, trust
records and network stats."""
