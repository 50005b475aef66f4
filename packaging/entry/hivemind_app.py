"""Frozen entry point of the desktop app, `hivemind-app` (packaging/hivemind.spec)."""

import sys

from app.ui.main import main

if __name__ == "__main__":
    sys.exit(main())
