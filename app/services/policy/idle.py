"""How long has the user left this machine alone? One interface, one backend per desktop.

Each backend says cheaply whether it could work here (`is_supported`), then answers
`idle_seconds()` (blocking: ctypes or a short subprocess; call it from a thread). The
selection tries them by priority and keeps the first that answers; `NullIdleBackend` is the
fallback that answers nothing and says why ("idle detection unavailable").
"""

from __future__ import annotations

import abc
import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable

IDLE_UNAVAILABLE = "idle detection unavailable"
SUBPROCESS_TIMEOUT_S = 2.0


class IdleBackend(abc.ABC):
    """Seconds since the user last touched keyboard or mouse, for one kind of desktop."""

    name = "abstract"
    priority = 0  # higher is tried first

    @classmethod
    def is_supported(cls) -> bool:
        """Cheap: could this backend work here at all (platform, session, binaries)?"""
        return False

    @abc.abstractmethod
    def idle_seconds(self) -> float | None:
        """Seconds of user inactivity, or None when it cannot tell now. Blocking."""

    @property
    def reason(self) -> str:
        """Why idle time is unknown; empty for a working backend."""
        return ""


class NullIdleBackend(IdleBackend):
    name = "none"
    priority = -1

    @classmethod
    def is_supported(cls) -> bool:
        return True

    def idle_seconds(self) -> float | None:
        return None

    @property
    def reason(self) -> str:
        return IDLE_UNAVAILABLE


def idle_from_ticks(now_ms: int, last_input_ms: int) -> float:
    """Windows tick counts are 32-bit milliseconds that wrap every 49.7 days."""
    return ((now_ms - last_input_ms) & 0xFFFFFFFF) / 1000.0


class WindowsIdleBackend(IdleBackend):
    """GetLastInputInfo: the tick of the last input event in this session."""

    name = "windows"
    priority = 100

    @classmethod
    def is_supported(cls) -> bool:
        return sys.platform == "win32"

    def idle_seconds(self) -> float | None:
        class LastInputInfo(ctypes.Structure):
            _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]

        info = LastInputInfo()
        info.cbSize = ctypes.sizeof(info)
        windll = ctypes.windll  # type: ignore[attr-defined]
        if not windll.user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        windll.kernel32.GetTickCount.restype = ctypes.c_uint32
        return idle_from_ticks(windll.kernel32.GetTickCount(), info.dwTime)


class MacIdleBackend(IdleBackend):
    """CGEventSourceSecondsSinceLastEventType over any input event (CoreGraphics)."""

    name = "macos"
    priority = 100
    CORE_GRAPHICS = "/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics"
    HID_SYSTEM_STATE = 1  # kCGEventSourceStateHIDSystemState: real hardware input
    ANY_INPUT_EVENT = 0xFFFFFFFF  # kCGAnyInputEventType

    @classmethod
    def is_supported(cls) -> bool:
        return sys.platform == "darwin"

    def idle_seconds(self) -> float | None:
        try:
            graphics = ctypes.cdll.LoadLibrary(self.CORE_GRAPHICS)
        except OSError:
            return None
        since = graphics.CGEventSourceSecondsSinceLastEventType
        since.restype = ctypes.c_double
        since.argtypes = [ctypes.c_int32, ctypes.c_uint32]
        return float(since(self.HID_SYSTEM_STATE, self.ANY_INPUT_EVENT))


class XScreenSaverInfo(ctypes.Structure):
    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),  # milliseconds since the last input
        ("eventMask", ctypes.c_ulong),
    ]


class X11IdleBackend(IdleBackend):
    """The X11 screen saver extension (libXss), when DISPLAY names an X server."""

    name = "x11"
    priority = 80

    @classmethod
    def is_supported(cls) -> bool:
        return bool(
            os.environ.get("DISPLAY")
            and ctypes.util.find_library("X11")
            and ctypes.util.find_library("Xss")
        )

    def __init__(self) -> None:
        self._xlib = None
        self._xss = None

    def _libraries(self) -> tuple[ctypes.CDLL, ctypes.CDLL]:
        if self._xlib is None or self._xss is None:
            xlib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
            xss = ctypes.cdll.LoadLibrary(ctypes.util.find_library("Xss") or "libXss.so.1")
            xlib.XOpenDisplay.restype = ctypes.c_void_p
            xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
            xlib.XDefaultRootWindow.restype = ctypes.c_ulong
            xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
            xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
            xlib.XFree.argtypes = [ctypes.c_void_p]
            xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(XScreenSaverInfo)
            xss.XScreenSaverQueryInfo.argtypes = [
                ctypes.c_void_p,
                ctypes.c_ulong,
                ctypes.POINTER(XScreenSaverInfo),
            ]
            self._xlib, self._xss = xlib, xss
        return self._xlib, self._xss

    def idle_seconds(self) -> float | None:
        try:
            xlib, xss = self._libraries()
        except OSError:
            return None
        # A display per query: an X server restart (log out, log in) must not break us.
        display = xlib.XOpenDisplay(None)
        if not display:
            return None
        info = xss.XScreenSaverAllocInfo()
        try:
            if not info or not xss.XScreenSaverQueryInfo(
                display, xlib.XDefaultRootWindow(display), info
            ):
                return None
            return info.contents.idle / 1000.0
        finally:
            if info:
                xlib.XFree(info)
            xlib.XCloseDisplay(display)


def _run_quietly(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _has_session_bus() -> bool:
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
    return bool(
        os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        or (runtime_dir and os.path.exists(os.path.join(runtime_dir, "bus")))
    )


class MutterIdleBackend(IdleBackend):
    """GNOME's IdleMonitor over the session bus (works on Wayland, where X11 cannot see)."""

    name = "gnome-mutter"
    priority = 90
    DEST = "org.gnome.Mutter.IdleMonitor"
    PATH = "/org/gnome/Mutter/IdleMonitor/Core"
    METHOD = "org.gnome.Mutter.IdleMonitor.GetIdletime"
    _UINT64 = re.compile(r"uint64\s+(\d+)")

    @classmethod
    def is_supported(cls) -> bool:
        return (
            sys.platform.startswith("linux")
            and _has_session_bus()
            and bool(shutil.which("gdbus") or shutil.which("dbus-send"))
        )

    def idle_seconds(self) -> float | None:
        if shutil.which("gdbus"):
            argv = ["gdbus", "call", "--session", "--dest", self.DEST]
            argv += ["--object-path", self.PATH, "--method", self.METHOD]
        else:
            argv = ["dbus-send", "--session", "--print-reply", f"--dest={self.DEST}"]
            argv += [self.PATH, self.METHOD]
        output = _run_quietly(argv)
        match = self._UINT64.search(output or "")
        return int(match.group(1)) / 1000.0 if match else None


class LogindIdleBackend(IdleBackend):
    """systemd-logind's IdleHint for our session (set by desktops, and for text consoles)."""

    name = "logind"
    priority = 50

    @classmethod
    def is_supported(cls) -> bool:
        return (
            sys.platform.startswith("linux")
            and os.path.isdir("/run/systemd/system")
            and bool(shutil.which("loginctl"))
        )

    def idle_seconds(self) -> float | None:
        session = os.environ.get("XDG_SESSION_ID") or "auto"
        output = _run_quietly(
            ["loginctl", "show-session", session, "-p", "IdleHint", "-p", "IdleSinceHint"]
        )
        if output is None:
            return None
        values = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
        if values.get("IdleHint") not in ("yes", "no"):
            return None
        if values["IdleHint"] == "no":
            return 0.0
        try:
            since_us = int(values.get("IdleSinceHint", "0"))
        except ValueError:
            return None
        if since_us <= 0:
            return None
        return max(0.0, time.time() - since_us / 1e6)


ALL_BACKENDS: tuple[type[IdleBackend], ...] = (
    WindowsIdleBackend,
    MacIdleBackend,
    MutterIdleBackend,
    X11IdleBackend,
    LogindIdleBackend,
)


def select_idle_backend(candidates: Iterable[type[IdleBackend]] = ALL_BACKENDS) -> IdleBackend:
    """The highest-priority backend that is supported here and answers a first query; the
    null backend when none does. Blocking (may run a subprocess per candidate)."""
    for kind in sorted(candidates, key=lambda kind: kind.priority, reverse=True):
        if not kind.is_supported():
            continue
        backend = kind()
        if backend.idle_seconds() is not None:
            return backend
    return NullIdleBackend()
