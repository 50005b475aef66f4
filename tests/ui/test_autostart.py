"""Start at login: the Linux XDG entry for real (a file the desktop reads), and the Windows
Run key and the macOS LaunchAgent by exactly what they write."""

from __future__ import annotations

import configparser
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from app.ui.autostart import (
    APP_ID,
    RUN_KEY,
    RUN_VALUE,
    LaunchAgent,
    WindowsRunKey,
    XdgAutostart,
    autostart_for_platform,
    launch_command,
)
from tests.kit.paths import REPO_ROOT

COMMAND = ["/opt/Hive Mind/hivemind-app", "--background"]


def test_linux_xdg_autostart_entry(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    autostart = XdgAutostart()
    assert autostart.path == tmp_path / "config" / "autostart" / "hivemind.desktop"
    assert not autostart.is_enabled()

    autostart.enable(COMMAND)
    assert autostart.is_enabled()
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(autostart.path)
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Name"] == "HiveMind"
    assert desktop["X-GNOME-Autostart-enabled"] == "true"
    # The Exec line splits back into the same argv (the path has a space).
    assert shlex.split(desktop["Exec"]) == COMMAND

    autostart.disable()
    assert not autostart.is_enabled() and not autostart.path.exists()
    autostart.disable()  # turning it off twice is fine


def test_linux_entry_starts_the_app_for_real(tmp_path: Path):
    # The command we register must actually start the app: run it (smoke mode) from the
    # Exec line, as a session would.
    autostart = XdgAutostart(tmp_path)
    command = [sys.executable, "-m", "app.ui.main", "--background"]
    autostart.enable(command)
    exec_line = next(
        line.split("=", 1)[1]
        for line in autostart.path.read_text().splitlines()
        if line.startswith("Exec=")
    )
    argv = [*shlex.split(exec_line), "--smoke-test"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert "smoke test ok" in done.stdout


def test_launch_command_from_a_source_checkout():
    command = launch_command()
    assert command[-1] == "--background"
    assert command[0].endswith(("hivemind-app", "python", "python3")) or "python" in command[0]


def test_macos_launch_agent_plist(tmp_path: Path):
    agent = LaunchAgent(tmp_path / "LaunchAgents")
    assert agent.path.name == f"{APP_ID}.plist"
    agent.enable(COMMAND)
    plist = plistlib.loads(agent.path.read_bytes())
    assert plist == {
        "Label": APP_ID,
        "ProgramArguments": COMMAND,
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
    }
    assert agent.is_enabled()
    agent.disable()
    assert not agent.is_enabled()


class DictRegistry:
    """A stand-in for HKEY_CURRENT_USER: winreg exists only on Windows."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def read(self, key: str, name: str) -> str | None:
        return self.values.get((key, name))

    def write(self, key: str, name: str, value: str) -> None:
        self.values[(key, name)] = value

    def delete(self, key: str, name: str) -> None:
        self.values.pop((key, name), None)


def test_windows_run_key_value():
    registry = DictRegistry()
    run_key = WindowsRunKey(registry)
    assert RUN_KEY == r"Software\Microsoft\Windows\CurrentVersion\Run"
    command = [r"C:\Program Files\HiveMind\hivemind-app.exe", "--background"]
    run_key.enable(command)
    assert registry.values == {
        (RUN_KEY, RUN_VALUE): r'"C:\Program Files\HiveMind\hivemind-app.exe" --background'
    }
    assert run_key.is_enabled()
    assert run_key.location.endswith(r"CurrentVersion\Run\HiveMind")
    run_key.disable()
    assert not run_key.is_enabled()


@pytest.mark.parametrize(
    ("platform", "kind"),
    [("win32", WindowsRunKey), ("darwin", LaunchAgent), ("linux", XdgAutostart)],
)
def test_each_os_gets_its_own_writer(platform, kind, monkeypatch):
    if platform == "win32":
        monkeypatch.setattr("app.ui.autostart.WinregRegistry", DictRegistry)
    assert isinstance(autostart_for_platform(platform), kind)
