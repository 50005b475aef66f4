"""The import walls between packages hold (the import-linter contracts in pyproject.toml).

The server's packages import downwards only (rpc above the domain packages, the domain above
store), with no cycles between siblings; the app and the server never import each other;
common and proto import neither. Add an import that climbs a wall and this fails, naming it.
"""

from __future__ import annotations

from importlinter.cli import lint_imports

from tests.kit.paths import REPO_ROOT


def test_imports_keep_the_contracts_in_pyproject(capsys):
    exit_code = lint_imports(
        config_filename=str(REPO_ROOT / "pyproject.toml"), no_cache=True, no_logo=True
    )
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "BROKEN" not in report
