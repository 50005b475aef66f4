"""HiveMind."""
