"""Idle-time backends. X11 runs for real under Xvfb (skipped when Xvfb is not installed);
GNOME Mutter and logind answer through fake `gdbus`/`dbus-send`/`loginctl` programs that
print what the real ones print (no desktop session or systemd here); Windows and macOS
cannot run here, so only their arithmetic and their refusal to run elsewhere are tested."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.services.policy.idle import (
    IDLE_UNAVAILABLE,
    IdleBackend,
    LogindIdleBackend,
    MacIdleBackend,
    MutterIdleBackend,
    NullIdleBackend,
    WindowsIdleBackend,
    X11IdleBackend,
    idle_from_ticks,
    select_idle_backend,
)
from tests.kit.ci import unavailable


def _fake_program(bin_dir: Path, name: str, output: str) -> Path:
    """A FAKE program: prints `output` like the real one would, and records its argv."""
    program = bin_dir / name
    program.write_text(
        "#!/bin/sh\n"
        f"# FAKE {name} for tests: no desktop session on this machine\n"
        f'echo "$@" > "{bin_dir}/{name}.argv"\n'
        f"printf '%s' '{output}'\n"
    )
    program.chmod(0o755)
    return program


@pytest.fixture
def no_desktop(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_nothing_to_ask_means_the_null_backend_and_its_reason(no_desktop):
    backend = select_idle_backend(
        [WindowsIdleBackend, MacIdleBackend, MutterIdleBackend, X11IdleBackend]
    )
    assert isinstance(backend, NullIdleBackend)
    assert backend.idle_seconds() is None
    assert backend.reason == IDLE_UNAVAILABLE == "idle detection unavailable"


def test_selection_prefers_priority_and_skips_backends_that_do_not_answer():
    class Silent(IdleBackend):
        """FAKE: a supported backend whose desktop does not answer."""

        priority = 90

        @classmethod
        def is_supported(cls) -> bool:
            return True

        def idle_seconds(self) -> float | None:
            return None

    class Answering(Silent):
        """FAKE: a supported backend that answers."""

        priority = 10

        def idle_seconds(self) -> float | None:
            return 42.0

    class Unsupported(Answering):
        priority = 100

        @classmethod
        def is_supported(cls) -> bool:
            return False

    backend = select_idle_backend([Unsupported, Silent, Answering])
    assert type(backend) is Answering
    assert backend.idle_seconds() == 42.0
    assert backend.reason == ""


def test_windows_and_macos_backends_refuse_to_run_elsewhere():
    assert WindowsIdleBackend.is_supported() == (sys.platform == "win32")
    assert MacIdleBackend.is_supported() == (sys.platform == "darwin")
    # GetTickCount wraps every 49.7 days; idle time must survive the wrap.
    assert idle_from_ticks(5_000, 2_000) == 3.0
    assert idle_from_ticks(16, 0xFFFFFFF0) == pytest.approx(0.032)


def test_mutter_over_gdbus(tmp_path, monkeypatch):
    _fake_program(tmp_path, "gdbus", "(uint64 90500,)\n")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert MutterIdleBackend.is_supported() == sys.platform.startswith("linux")
    assert MutterIdleBackend().idle_seconds() == 90.5
    argv = (tmp_path / "gdbus.argv").read_text()
    assert "org.gnome.Mutter.IdleMonitor.GetIdletime" in argv
    assert "--session" in argv


def test_mutter_over_dbus_send_when_gdbus_is_missing(tmp_path, monkeypatch):
    _fake_program(
        tmp_path,
        "dbus-send",
        "method return time=1700000000.1 sender=:1.5 -> destination=:1.9 serial=7\n"
        "   uint64 2500\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path))  # no gdbus anywhere on PATH
    assert MutterIdleBackend().idle_seconds() == 2.5


def test_mutter_says_nothing_when_gnome_is_not_there(tmp_path, monkeypatch):
    (tmp_path / "gdbus").write_text("#!/bin/sh\n# FAKE gdbus: no GNOME here\nexit 1\n")
    (tmp_path / "gdbus").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert MutterIdleBackend().idle_seconds() is None


def test_logind_idle_hint(tmp_path, monkeypatch):
    idle_since_us = int((time.time() - 300) * 1e6)
    _fake_program(tmp_path, "loginctl", f"IdleHint=yes\nIdleSinceHint={idle_since_us}\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_SESSION_ID", "c7")
    assert LogindIdleBackend().idle_seconds() == pytest.approx(300, abs=5)
    assert (tmp_path / "loginctl.argv").read_text().split()[:2] == ["show-session", "c7"]

    _fake_program(tmp_path, "loginctl", "IdleHint=no\nIdleSinceHint=0\n")
    assert LogindIdleBackend().idle_seconds() == 0.0
    _fake_program(tmp_path, "loginctl", "")
    assert LogindIdleBackend().idle_seconds() is None


@pytest.fixture
def xvfb(monkeypatch):
    """A real X server (Xvfb) on a free display number, for the real X11 backend."""
    if shutil.which("Xvfb") is None or ctypes.util.find_library("Xss") is None:
        unavailable("X11 idle", "Xvfb or libXss is not installed (apt-get install xvfb libxss1)")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    server = subprocess.Popen(
        # -noreset: by default an X server resets whenever its last client disconnects,
        # and each query here is a short connection; a query landing in that reset
        # finds no server (seen once in CI as idle_seconds() answering None).
        ["Xvfb", f":{number}", "-noreset", "-nolisten", "tcp", "-screen", "0", "320x240x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("Xvfb did not start")
            time.sleep(0.05)
        monkeypatch.setenv("DISPLAY", f":{number}")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(5)


def _move_pointer(display_name: str) -> None:
    """Real input through the XTest extension, as a user's mouse would make."""
    xlib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
    xtst = ctypes.cdll.LoadLibrary(ctypes.util.find_library("Xtst") or "libXtst.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeMotionEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_ulong,
    ]
    display = xlib.XOpenDisplay(display_name.encode())
    assert display
    xtst.XTestFakeMotionEvent(display, -1, 10, 20, 0)
    xtst.XTestFakeMotionEvent(display, -1, 30, 40, 0)
    xlib.XFlush(display)
    xlib.XCloseDisplay(display)


def test_x11_idle_time_grows_and_resets_on_input(xvfb):
    assert X11IdleBackend.is_supported()
    backend = select_idle_backend([X11IdleBackend])
    assert isinstance(backend, X11IdleBackend)
    first = backend.idle_seconds()
    time.sleep(1.2)
    later = backend.idle_seconds()
    assert later is not None and first is not None
    assert later >= first + 1.0
    if ctypes.util.find_library("Xtst") is None:
        unavailable("X11 idle", "libXtst is not installed: no input to reset the idle time")
    _move_pointer(xvfb)
    assert backend.idle_seconds() < 0.5


def test_x11_without_a_server_answers_nothing(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":199")  # no X server there
    if ctypes.util.find_library("Xss") is None:
        unavailable("X11 idle", "libXss is not installed")
    assert X11IdleBackend().idle_seconds() is None
