"""Where the source tree is, and the environment a `python -m ...` subprocess of it needs."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"


def python_env(**overrides: str) -> dict[str, str]:
    """This process's environment for a `python -m server|app...` subprocess run from
    REPO_ROOT: the tree first on PYTHONPATH (whatever was installed), then `overrides`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env
