"""The import walls between packages hold (the import-linter contracts in pyproject.toml).

The server's packages import downwards only (rpc above the domain packages, the domain above
store), with no cycles between siblings; the app and the server never import each other;
common and proto import neither. Add an import that climbs a wall and this fails, naming it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.kit.paths import REPO_ROOT


def test_imports_keep_the_contracts_in_pyproject():
    # In a child process: import-linter's CLI reconfigures logging with dictConfig, which
    # disables every logger already created in this process (later caplog tests saw nothing).
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "BROKEN" not in report
