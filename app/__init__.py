"""HiveMind: the contributor and submitter side."""

__version__ = "0.1.0"
