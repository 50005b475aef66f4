"""Start HiveMind at login, per OS: a Windows Run key, a macOS LaunchAgent, an XDG autostart
entry on Linux. No Qt here: each backend renders exactly what it would write, so the formats
are testable on any OS, and writes it where its OS looks.
"""

from __future__ import annotations

import abc
import os
import plistlib
import shlex
import shutil
import sys
from pathlib import Path
from typing import Protocol

APP_ID = "org.hivemind.HiveMind"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "HiveMind"
# The app starts hidden in the tray when launched at login.
BACKGROUND_FLAG = "--background"


def launch_command() -> list[str]:
    """The argv that starts the desktop app: the frozen binary, the installed `hivemind-app`
    script, or this interpreter running the module (a source checkout)."""
    if getattr(sys, "frozen", False):
        # The bundle holds two executables; the app may have been opened through the CLI
        # (`hivemind app`), so name the GUI one beside it, not whichever is running.
        here = Path(sys.executable)
        gui = here.with_name("hivemind-app" + here.suffix)
        return [str(gui if gui.exists() else here), BACKGROUND_FLAG]
    script = shutil.which("hivemind-app")
    if script:
        return [script, BACKGROUND_FLAG]
    return [sys.executable, "-m", "app.ui.main", BACKGROUND_FLAG]


class Autostart(abc.ABC):
    """One OS's way of starting a program at login."""

    @abc.abstractmethod
    def is_enabled(self) -> bool: ...

    @abc.abstractmethod
    def enable(self, command: list[str]) -> None: ...

    @abc.abstractmethod
    def disable(self) -> None: ...

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the entry lives, for the settings tab and the logs."""


class XdgAutostart(Autostart):
    """Linux and BSD desktops: a .desktop file in $XDG_CONFIG_HOME/autostart."""

    def __init__(self, config_home: Path | None = None) -> None:
        base = (
            config_home
            or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config").expanduser()
        )
        self.path = base / "autostart" / "hivemind.desktop"

    @property
    def location(self) -> str:
        return str(self.path)

    @staticmethod
    def render(command: list[str]) -> str:
        # Exec takes a quoted argv (Desktop Entry spec, "The Exec key").
        exec_line = " ".join(_desktop_quote(arg) for arg in command)
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=HiveMind\n"
            "Comment=Share idle computing power and earn CPT\n"
            f"Exec={exec_line}\n"
            "Icon=hivemind\n"
            "Terminal=false\n"
            "Categories=Network;\n"
            "X-GNOME-Autostart-enabled=true\n"
        )

    def is_enabled(self) -> bool:
        if not self.path.exists():
            return False
        return "X-GNOME-Autostart-enabled=false" not in self.path.read_text(encoding="utf-8")

    def enable(self, command: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(self.render(command), encoding="utf-8")
        os.replace(tmp, self.path)

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


def _desktop_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_./=:+," for c in arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    return '"' + escaped.replace("$", "\\$") + '"'


class LaunchAgent(Autostart):
    """macOS: a LaunchAgent property list in ~/Library/LaunchAgents, loaded at login."""

    def __init__(self, agents_dir: Path | None = None) -> None:
        directory = agents_dir or Path.home() / "Library" / "LaunchAgents"
        self.path = directory / f"{APP_ID}.plist"

    @property
    def location(self) -> str:
        return str(self.path)

    @staticmethod
    def render(command: list[str]) -> bytes:
        return plistlib.dumps(
            {
                "Label": APP_ID,
                "ProgramArguments": list(command),
                "RunAtLoad": True,
                # A user who quits the app means it: do not relaunch it.
                "KeepAlive": False,
                "ProcessType": "Interactive",
            }
        )

    def is_enabled(self) -> bool:
        return self.path.exists()

    def enable(self, command: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self.render(command))

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


class RunKeyRegistry(Protocol):
    """The three registry operations the Run key needs (winreg on Windows)."""

    def read(self, key: str, name: str) -> str | None: ...

    def write(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> None: ...


class WinregRegistry:
    """HKEY_CURRENT_USER through the standard library's winreg (Windows only)."""

    def __init__(self) -> None:
        import winreg  # only exists on Windows

        self._winreg = winreg

    def read(self, key: str, name: str) -> str | None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, key) as handle:
                value, _kind = w.QueryValueEx(handle, name)
                return str(value)
        except FileNotFoundError:
            return None

    def write(self, key: str, name: str, value: str) -> None:
        w = self._winreg
        with w.CreateKey(w.HKEY_CURRENT_USER, key) as handle:
            w.SetValueEx(handle, name, 0, w.REG_SZ, value)

    def delete(self, key: str, name: str) -> None:
        w = self._winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, key, 0, w.KEY_SET_VALUE) as handle:
                w.DeleteValue(handle, name)
        except FileNotFoundError:
            pass


class WindowsRunKey(Autostart):
    """Windows: a value under HKCU\\...\\CurrentVersion\\Run holding the command line."""

    def __init__(self, registry: RunKeyRegistry | None = None) -> None:
        self._registry = registry or WinregRegistry()

    @property
    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{RUN_VALUE}"

    @staticmethod
    def render(command: list[str]) -> str:
        # Windows command-line quoting rules (CommandLineToArgvW), as subprocess applies them.
        import subprocess

        return subprocess.list2cmdline(command)

    def is_enabled(self) -> bool:
        return self._registry.read(RUN_KEY, RUN_VALUE) is not None

    def enable(self, command: list[str]) -> None:
        self._registry.write(RUN_KEY, RUN_VALUE, self.render(command))

    def disable(self) -> None:
        self._registry.delete(RUN_KEY, RUN_VALUE)


def autostart_for_platform(platform: str | None = None) -> Autostart:
    platform = platform or sys.platform
    if platform == "win32":
        return WindowsRunKey()
    if platform == "darwin":
        return LaunchAgent()
    return XdgAutostart()


def describe(command: list[str]) -> str:
    """A shell-style rendering of `command` for logs."""
    return shlex.join(command)
