"""`hivemind-server admin db status|upgrade` through the real CLI (a subprocess), and the
migrations shipping with an installed server. The status and upgrade test runs again on
PostgreSQL with --db=postgres (marked db)."""

from __future__ import annotations

import json
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.kit.admin import server_cli
from tests.kit.paths import REPO_ROOT
from tests.kit.postgres import database_url_of
from tests.server.migrationkit import HEAD, make_0001_database


def admin_db(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return server_cli("admin", "db", *args, "--data-dir", str(data_dir))


@pytest.mark.db
def test_admin_db_status_and_upgrade(tmp_path, open_database):
    data_dir = tmp_path / "data"
    make_0001_database(data_dir, open_database)

    status = admin_db(data_dir, "status", "--json")
    assert status.returncode == 0, status.stderr
    found = json.loads(status.stdout)
    assert (found["state"], found["current"], found["head"]) == ("pending", "0001", HEAD)
    pending = [f"{n:04d}" for n in range(2, int(HEAD) + 1)]
    assert [p["revision"] for p in found["pending"]] == pending
    assert found["pending"][0]["description"].startswith("Verification and compare commands")
    human = admin_db(data_dir, "status")
    assert "revision: 0001" in human.stdout and "pending:  0002 Verification" in human.stdout

    upgraded = admin_db(data_dir, "upgrade", "--json")
    assert upgraded.returncode == 0, upgraded.stderr
    done = json.loads(upgraded.stdout)
    assert (done["from"], done["to"], done["changed"]) == ("0001", HEAD, True)
    if database_url_of(data_dir) is None:
        assert done["backup"] == str(data_dir / "hivemind.db.before-0001")
        assert Path(done["backup"]).exists()

    again = admin_db(data_dir, "upgrade")
    assert again.returncode == 0
    assert again.stdout.strip().endswith(f"is already at revision {HEAD}; nothing to do")
    assert json.loads(admin_db(data_dir, "status", "--json").stdout)["state"] == "current"


def test_admin_db_on_a_missing_data_dir_says_so(tmp_path):
    for command in ("status", "upgrade"):
        done = admin_db(tmp_path / "nothing", command)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.strip() == (
            f"error: no HiveMind data in {tmp_path / 'nothing'} (check --data-dir)"
        )
    assert not (tmp_path / "nothing" / "hivemind.db").exists()


# -- shipping ------------------------------------------------------------------------------------


def test_every_migration_file_ships_as_package_data():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["server.store"]
    store = REPO_ROOT / "server" / "store"
    files = [
        p.relative_to(store).as_posix()
        for p in (store / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert "migrations/env.py" in files and len(files) >= 4
    assert [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)] == []
