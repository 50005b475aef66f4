"""`python -m server` is `hivemind-server`."""

import sys

from server.cli import main

sys.exit(main())
