"""What admins install: the server on its own (no Qt), the systemd unit, the Dockerfile and the
compose file. The unit and the image's command are run for real against the server's CLI;
the image itself is not built here (python:3.11-slim cannot be pulled on this machine; the
release workflow builds and starts it)."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from server.config import ServerSettings
from tests.kit.paths import REPO_ROOT
from tests.kit.servers import ServerProcess

SERVER = REPO_ROOT / "packaging" / "server"
UNIT = SERVER / "hivemind-server.service"
QT_DISTRIBUTIONS = ("pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6", "qasync")


def unit_directives(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's format: [Section] then Key=Value lines; a key may repeat."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def server_setting_env_names() -> set[str]:
    return {f"HIVEMIND_SERVER_{f.name.upper()}" for f in dataclasses.fields(ServerSettings)}


def start_server_with(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> str:
    """Runs `hivemind-server ARGS` from the source tree until it says where it listens, and
    returns that line."""
    proc = ServerProcess(args, tmp_path / "server.log", env=env)
    try:
        return proc.start_blocking().ready_line
    finally:
        proc.stop_blocking(timeout=20)


# -- the server alone ---------------------------------------------------------------------


def test_base_dependencies_carry_no_qt() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = [
        re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]
    ]
    assert not [n for n in names if n in QT_DISTRIBUTIONS]
    assert project["scripts"]["hivemind-server"] == "server.cli.main:main"


def test_every_server_module_imports_with_qt_unavailable() -> None:
    # An install without the desktop extra has no PySide6: None in sys.modules makes any
    # import of it fail exactly as a missing package would.
    probe = """
import importlib, pkgutil, sys
for name in ("PySide6", "shiboken6", "qasync"):
    sys.modules[name] = None
import server
names = [m.name for m in pkgutil.walk_packages(server.__path__, "server.")]
for name in names:
    if not name.endswith("__main__"):  # that one runs the CLI
        importlib.import_module(name)
print("imported", len(names))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported")


# -- systemd ------------------------------------------------------------------------------


def test_systemd_unit_is_sandboxed_and_restarts() -> None:
    service = unit_directives(UNIT.read_text())["Service"]
    required = {
        "User": "hivemind",
        "Group": "hivemind",
        "ProtectSystem": "full",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "Restart": "on-failure",
        "StateDirectory": "hivemind",
    }
    for key, value in required.items():
        assert service.get(key) == [value], key
    exec_start = shlex.split(service["ExecStart"][0])
    assert exec_start[:2] == ["/opt/hivemind-server/bin/hivemind-server", "run"]
    assert exec_start[exec_start.index("--data-dir") + 1] == "/var/lib/hivemind"
    assert unit_directives(UNIT.read_text())["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # verify also checks that ExecStart exists: point it at a binary this machine has.
    unit = tmp_path / "hivemind-server.service"
    unit.write_text(
        UNIT.read_text().replace("/opt/hivemind-server/bin/hivemind-server", "/bin/true")
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "hivemind-server.service" not in done.stderr, done.stderr


def test_systemd_exec_start_is_a_real_server_command(tmp_path: Path) -> None:
    exec_start = shlex.split(unit_directives(UNIT.read_text())["Service"]["ExecStart"][0])
    args = [tmp_path / "data" if a == "/var/lib/hivemind" else a for a in exec_start[1:]]
    line = start_server_with([*map(str, args), "--listen", "127.0.0.1:0"], tmp_path)
    assert "127.0.0.1:" in line


# -- Docker -------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (SERVER / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_dockerfile_runs_the_server_as_a_user_on_a_volume() -> None:
    steps = dockerfile_instructions()
    froms = [arg for op, arg in steps if op == "FROM"]
    assert all(arg.startswith("python:3.11-slim") for arg in froms)
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any("/var/lib/hivemind" in arg for op, arg in steps if op == "VOLUME")
    entry = [arg for op, arg in steps if op == "ENTRYPOINT"][-1]
    cmd = [arg for op, arg in steps if op == "CMD"][-1]
    assert '"hivemind-server"' in entry
    assert '"--data-dir", "/var/lib/hivemind"' in cmd
    exposed = " ".join(arg for op, arg in steps if op == "EXPOSE")
    assert "50051/tcp" in exposed


def test_dockerfile_copies_only_what_exists() -> None:
    for op, arg in dockerfile_instructions():
        if op == "COPY" and not arg.startswith("--from"):
            for source in arg.split()[:-1]:
                assert (REPO_ROOT / source).exists(), source


def test_dockerfile_and_compose_name_real_server_settings() -> None:
    texts = (SERVER / "Dockerfile").read_text() + (SERVER / "docker-compose.yml").read_text()
    # Commented lines too: what the comments tell an admin to set must exist.
    named = set(re.findall(r"HIVEMIND_SERVER_[A-Z_]+", texts))
    assert named and named <= server_setting_env_names(), sorted(named)


def compose_file() -> dict:
    return YAML(typ="safe").load((SERVER / "docker-compose.yml").read_text())


REPLICAS = ("hivemind-a", "hivemind-b")


def test_compose_replica_settings_start_a_real_replica(tmp_path: Path, redis_url: str) -> None:
    """A replica's settings from the compose file, given to the real server: the database and
    Redis on this machine instead of the compose network's, loopback instead of every
    interface; it starts as a replica (on Redis) in plaintext, as behind HAProxy."""
    env = dict(compose_file()["services"]["hivemind-a"]["environment"])
    assert env["HIVEMIND_SERVER_DATABASE_URL"].startswith("postgresql+psycopg://hivemind:")
    assert env["HIVEMIND_SERVER_LISTEN"] == "0.0.0.0:50051"
    env.update(
        HIVEMIND_SERVER_DATABASE_URL="",  # SQLite in the data dir
        HIVEMIND_SERVER_REDIS_URL=redis_url,
        HIVEMIND_SERVER_REDIS_NAMESPACE=f"compose-{tmp_path.name}",
        HIVEMIND_SERVER_BT_PUBLIC_HOST="127.0.0.1",
        HIVEMIND_SERVER_LISTEN=env["HIVEMIND_SERVER_LISTEN"].replace(
            "0.0.0.0:50051", "127.0.0.1:0"
        ),
        HIVEMIND_SERVER_HTTP_LISTEN="127.0.0.1:0",
        HIVEMIND_SERVER_BT_LISTEN_PORT="0",
    )
    assert env["HIVEMIND_SERVER_INSECURE"] == "1"
    line = start_server_with(["run", "--data-dir", str(tmp_path / "data")], tmp_path, env)
    assert "listening on 127.0.0.1:" in line
    log = (tmp_path / "server.log").read_text()
    assert "replica registered" in log and "redis connected" in log, log


def test_image_command_is_a_real_server_command(tmp_path: Path) -> None:
    cmd = next(arg for op, arg in reversed(dockerfile_instructions()) if op == "CMD")
    args = [tmp_path / "data" if a == "/var/lib/hivemind" else a for a in json.loads(cmd)]
    line = start_server_with([*map(str, args), "--listen", "127.0.0.1:0"], tmp_path)
    assert "listening on 127.0.0.1:" in line


def test_compose_file_matches_the_compose_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(SERVER / "docker-compose.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_two_replicas_on_postgres_and_redis_behind_haproxy() -> None:
    compose = compose_file()
    services = compose["services"]
    assert {"postgres", "redis", "haproxy", *REPLICAS} <= set(services)
    settings = [services[name]["environment"] for name in REPLICAS]
    # One database, one Redis; each replica its own data volume and BitTorrent port.
    assert len({env["HIVEMIND_SERVER_DATABASE_URL"] for env in settings}) == 1
    assert "@postgres:5432/" in settings[0]["HIVEMIND_SERVER_DATABASE_URL"]
    assert {env["HIVEMIND_SERVER_REDIS_URL"] for env in settings} == {"redis://redis:6379/0"}
    volumes = [services[name]["volumes"] for name in REPLICAS]
    assert volumes[0][0] != volumes[1][0]
    for name, mounted in zip(REPLICAS, volumes, strict=True):
        assert f"{name}-data:/var/lib/hivemind" in mounted
        assert f"{name}-data" in compose["volumes"]
        # The token.key they share, so tokens issued by one are good on the other.
        assert "./token.key:/var/lib/hivemind/token.key:ro" in mounted
        service = services[name]
        context = (SERVER / service["build"]["context"]).resolve()
        assert context == REPO_ROOT and (context / service["build"]["dockerfile"]).is_file()
        port = service["environment"]["HIVEMIND_SERVER_BT_LISTEN_PORT"]
        # BitTorrent published as is; the dashboard (plaintext) on the host's loopback only.
        assert service["ports"][0] == f"{port}:{port}/tcp"
        assert [p.split(":")[0] for p in service["ports"][1:]] == ["127.0.0.1"]
        assert service["environment"]["HIVEMIND_SERVER_HTTP_LISTEN"] == "0.0.0.0:50080"
        assert service["environment"]["HIVEMIND_SERVER_REPLICA_ADDRESS"] == f"{name}:50051"
    # Only HAProxy is published on 50051, with TLS, and it names both replicas.
    proxy = services["haproxy"]
    assert proxy["ports"] == ["50051:50051"]
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in proxy["volumes"]
    assert proxy["environment"]["HIVEMIND_TLS_PEM"].startswith("/etc/hivemind/tls/")
    assert {
        proxy["environment"]["HIVEMIND_REPLICA_A"],
        proxy["environment"]["HIVEMIND_REPLICA_B"],
    } == {f"{name}:50051" for name in REPLICAS}
    # It asks each replica's /readyz on the port of its web server.
    assert {
        proxy["environment"]["HIVEMIND_REPLICA_A_WEB_PORT"],
        proxy["environment"]["HIVEMIND_REPLICA_B_WEB_PORT"],
    } == {"50080"}
    config = (SERVER / "haproxy.cfg").read_text()
    assert all(f"${{{var}}}" in config for var in proxy["environment"])
