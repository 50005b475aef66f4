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
from tests.kit.certificates import issue_server_cert, make_authority
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


def test_compose_environment_starts_the_server_with_tls(tmp_path: Path) -> None:
    """The compose file's settings, given to the real server (certificate paths pointed at a
    fresh throwaway certificate, a free port): it serves TLS on all interfaces."""
    server_cert = issue_server_cert(make_authority("compose"), tmp_path)
    cert, key = server_cert.cert_file, server_cert.key_file
    compose = YAML(typ="safe").load((SERVER / "docker-compose.yml").read_text())
    env = dict(compose["services"]["hivemind-server"]["environment"])
    mounted = {
        "/etc/hivemind/tls/fullchain.pem": str(cert),
        "/etc/hivemind/tls/privkey.pem": str(key),
    }
    env = {name: mounted.get(value, value) for name, value in env.items()}
    env["HIVEMIND_SERVER_LISTEN"] = env["HIVEMIND_SERVER_LISTEN"].replace(":50051", ":0")
    env["HIVEMIND_SERVER_HTTP_LISTEN"] = env["HIVEMIND_SERVER_HTTP_LISTEN"].replace(":50080", ":0")
    env["HIVEMIND_SERVER_BT_LISTEN_PORT"] = "0"
    line = start_server_with(["run", "--data-dir", str(tmp_path / "data")], tmp_path, env)
    assert "listening on" in line


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


def test_compose_keeps_data_in_a_volume_and_builds_the_dockerfile() -> None:
    compose = YAML(typ="safe").load((SERVER / "docker-compose.yml").read_text())
    service = compose["services"]["hivemind-server"]
    context = (SERVER / service["build"]["context"]).resolve()
    assert context == REPO_ROOT
    assert (context / service["build"]["dockerfile"]).is_file()
    assert "hivemind-data:/var/lib/hivemind" in service["volumes"]
    assert "hivemind-data" in compose["volumes"]
    assert "50051:50051" in service["ports"]
    # Published on every interface, so TLS is on (the server refuses plaintext off loopback).
    assert service["environment"]["HIVEMIND_SERVER_TLS_CERT_FILE"].startswith("/etc/hivemind/tls/")
    assert "./tls:/etc/hivemind/tls:ro" in service["volumes"]
