"""The shared libraries the desktop app takes from the system on Linux, and the one line that
names the missing ones when Qt could not start without them.

Qt for Python (from pip, and inside the frozen bundle) carries Qt itself, but not the X11,
xcb, GL, font and D-Bus libraries of the desktop: those are the system's, listed here by soname
with the Debian package that provides each. packaging/build.py makes the .deb's Depends from
this table too, so what the app asks a user to install is what the package depends on.

Qt reports a platform plugin that cannot load with one generic message ("could not load the Qt
platform plugin "xcb" ...") and aborts. The app looks first: loading the plugin is the cheap
test (Qt loads the same file a moment later anyway), and only when that fails does `ldd` list
every library the loader cannot find. Qt is imported inside the functions only, so a Qt module
that cannot be imported for lack of a library is explained the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# soname -> Debian package, or None where the app runs without it. A library the frozen
# bundle needs and does not carry must be listed: packaging/build.py refuses to build without
# knowing its package. The bundle never carries these (packaging/hivemind.spec), so every
# build machine gives the same bundle and the same Depends.
DEBIAN_PACKAGES: dict[str, str | None] = {
    **dict.fromkeys(
        ["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
         "libutil.so.1", "libresolv.so.2", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"],
        "libc6",
    ),
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libgl1",  # libglx0 comes with libgl1
    "libGLdispatch.so.0": "libgl1",  # libglvnd0 comes with libgl1
    "libOpenGL.so.0": "libopengl0",
    "libEGL.so.1": "libegl1",
    "libdrm.so.2": "libdrm2",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXss.so.1": "libxss1",  # idle time on X11 (app/services/policy/idle.py, by ctypes)
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",  # Qt >= 6.5 will not start on X11 without it
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    # Native Wayland: without these Qt uses XWayland, which every Wayland desktop runs.
    "libwayland-client.so.0": None,
    "libwayland-cursor.so.0": None,
    "libwayland-egl.so.1": None,
}  # fmt: skip

# What Qt for Python needs besides, which the frozen bundle carries (so never a Depends) but a
# pip install takes from the system: named only to say what to install.
WITHOUT_THE_BUNDLE = {
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libbrotlidec.so.1": "libbrotli1",
    "libzstd.so.1": "libzstd1",
    "libz.so.1": "zlib1g",
}

# The Qt module the window needs, whose import fails first when a Qt library is missing.
QT_WIDGETS = "PySide6.QtWidgets"
# Platforms whose plugin needs the desktop's libraries; offscreen, minimal... need none.
DESKTOP_PLATFORMS = ("xcb", "wayland")
_SONAME_IN_ERROR = re.compile(r"(\S+\.so(?:\.[\w.]+)?): cannot open shared object file")


def missing_libraries(binary: Path) -> list[str]:
    """Sonames the dynamic loader cannot find for `binary` or for what it needs in turn, in the
    loader's order; empty when it loads."""
    try:
        ctypes.CDLL(str(binary))
        return []
    except OSError as exc:
        first = _SONAME_IN_ERROR.search(str(exc))
    missing = _not_found_by_ldd(binary)
    if not missing and first:
        missing = [first.group(1)]
    return missing


def _not_found_by_ldd(binary: Path) -> list[str]:
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        done = subprocess.run(
            [ldd, str(binary)], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    missing: list[str] = []
    for line in done.stdout.splitlines():
        name, _, where = line.strip().partition(" => ")
        if where.strip() == "not found" and name not in missing:
            missing.append(name)
    return missing


def debian_package(soname: str) -> str | None:
    return DEBIAN_PACKAGES.get(soname) or WITHOUT_THE_BUNDLE.get(soname)


def missing_libraries_message(sonames: list[str]) -> str:
    """One line: the Debian packages to install, and what is missing for other systems."""
    packages = list(dict.fromkeys(p for s in sonames if (p := debian_package(s))))
    unknown = [s for s in sonames if not debian_package(s)]
    what = ", ".join(sonames) if len(sonames) <= 3 else f"{len(sonames)} system libraries"
    missing = f"{what} {'is' if len(sonames) == 1 else 'are'} missing"
    if not packages:
        return f"HiveMind cannot start: {missing}; install the package that provides it."
    also = f" and the package that provides {', '.join(unknown)}" if unknown else ""
    return (
        f"HiveMind needs {', '.join(packages)}{also} (apt install {' '.join(packages)}): {missing}."
    )


def platforms_qt_tries(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt tries, in order: QT_QPA_PLATFORM's list, else Wayland first in a
    Wayland session and X11 (xcb) otherwise."""
    requested = env.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        return [name.split(":", 1)[0].strip() for name in requested.split(";") if name.strip()]
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def qt_platforms_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where Qt looks for platform plugins: QT_QPA_PLATFORM_PLUGIN_PATH, QT_PLUGIN_PATH, then
    its own plugins folder (also in the frozen bundle)."""
    dirs = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    from PySide6.QtCore import QLibraryInfo

    dirs.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms")
    return dirs


def _missing_for_qt_widgets() -> list[str]:
    """What the loader cannot find for the QtWidgets extension module and everything under it
    (Qt's libraries, shiboken), found without importing PySide6."""
    spec = importlib.util.find_spec(QT_WIDGETS.split(".")[0])
    folders = spec.submodule_search_locations if spec else None
    module = next((m for d in folders or [] for m in Path(d).glob("QtWidgets.*.so")), None)
    return missing_libraries(module) if module else []


def platform_plugin(platform: str, env: Mapping[str, str]) -> Path | None:
    """The file of a platform plugin, where Qt would find it."""
    candidates = (d / f"libq{platform}.so" for d in qt_platforms_dirs(env))
    return next((path for path in candidates if path.is_file()), None)


def desktop_libraries_problem(env: Mapping[str, str] | None = None) -> str | None:
    """The one line to print when Qt could not show a window for lack of a system library,
    else None. Checks before any QApplication exists; Linux only."""
    if not sys.platform.startswith("linux"):
        return None
    env = os.environ if env is None else env
    try:
        # PySide6 prints its own lines about a failed import before raising; ours says it all.
        with contextlib.redirect_stderr(io.StringIO()):
            importlib.import_module(QT_WIDGETS)
    except ImportError as exc:
        # Qt's own libraries need the desktop's too (GL, EGL, fontconfig, xkbcommon, D-Bus).
        found = _SONAME_IN_ERROR.search(str(exc))
        if not found:
            raise
        return missing_libraries_message(_missing_for_qt_widgets() or [found.group(1)])
    missing: list[str] = []
    for platform in platforms_qt_tries(env):
        if platform not in DESKTOP_PLATFORMS:
            return None
        plugin = platform_plugin(platform, env)
        if plugin is None:
            continue  # Qt says so itself, and tries the next one
        missing = missing_libraries(plugin)
        if not missing:
            return None
    return missing_libraries_message(missing) if missing else None
