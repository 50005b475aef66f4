"""Frozen entry point of the `hivemind` command line (packaging/hivemind.spec)."""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
