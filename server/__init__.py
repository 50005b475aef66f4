"""HiveMind headless server: Node Pool + Master."""

__version__ = "0.1.0"
