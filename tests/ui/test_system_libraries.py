"""`hivemind-app` names a missing system library in one line, before Qt gives its generic
message and aborts: checked against Qt's real xcb plugin on disk, on a real Debian 12 without
the desktop's libraries (the runtime image, when Docker is up), and through the real entry
point with a fake plugin that asks for a library no machine has."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QLibraryInfo

from app.ui.system_libraries import (
    DEBIAN_PACKAGES,
    debian_package,
    desktop_libraries_problem,
    missing_libraries,
    missing_libraries_message,
    platforms_qt_tries,
)
from tests.kit.ci import unavailable
from tests.kit.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "packaging"))
from bundle_libraries import needed_sonames

PYSIDE = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PrefixPath)).parent
XCB_PLUGIN = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms/libqxcb.so"
RUNTIME_IMAGE = "hivemind/python:3.11"  # Debian 12 essentials + python3 (make runtime-image)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def ldd(binary: Path) -> dict[str, str]:
    """soname -> where the loader finds it ("not found" when it does not), as `ldd` says."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    return {
        name: where.split(" (")[0]
        for name, _, where in (line.strip().partition(" => ") for line in out.splitlines())
        if where
    }


def test_every_library_the_xcb_plugin_takes_from_the_system_has_its_debian_package() -> None:
    # What the real plugin, and the Qt libraries it loads, link against from outside Qt for
    # Python (what those libraries need in turn comes with their packages).
    inside_qt = [XCB_PLUGIN] + [
        Path(where) for where in ldd(XCB_PLUGIN).values() if where.startswith(str(PYSIDE))
    ]
    found = ldd(XCB_PLUGIN)
    from_the_system = {
        name
        for binary in inside_qt
        for name in needed_sonames(binary)
        if not found.get(name, "").startswith(str(PYSIDE))
    }
    assert {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"} <= from_the_system
    unnamed = [n for n in from_the_system if not debian_package(n)]
    assert not unnamed
    assert DEBIAN_PACKAGES["libxcb-cursor.so.0"] == "libxcb-cursor0"
    assert DEBIAN_PACKAGES["libxcb-icccm.so.4"] == "libxcb-icccm4"
    assert DEBIAN_PACKAGES["libxcb-keysyms.so.1"] == "libxcb-keysyms1"


def test_the_plugin_loads_exactly_when_the_loader_finds_everything() -> None:
    not_found = [name for name, where in ldd(XCB_PLUGIN).items() if where == "not found"]
    assert missing_libraries(XCB_PLUGIN) == not_found


def test_one_line_names_the_packages_and_the_libraries() -> None:
    assert missing_libraries_message(["libxcb-cursor.so.0"]) == (
        "HiveMind needs libxcb-cursor0 (apt install libxcb-cursor0): libxcb-cursor.so.0 is missing."
    )
    three = ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries_message(three) == (
        "HiveMind needs libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1 "
        "(apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1): "
        "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1 are missing."
    )
    assert missing_libraries_message(["libX11.so.6", "libX11-xcb.so.1", "libxcb.so.1", "x.so"]) == (
        "HiveMind needs libx11-6, libx11-xcb1, libxcb1 and the package that provides x.so "
        "(apt install libx11-6 libx11-xcb1 libxcb1): 4 system libraries are missing."
    )
    assert missing_libraries_message(["libunknown.so.3"]) == (
        "HiveMind cannot start: libunknown.so.3 is missing; install the package that provides it."
    )


def test_the_platforms_checked_are_the_ones_qt_tries() -> None:
    assert platforms_qt_tries({}) == ["xcb"]
    assert platforms_qt_tries({"WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]
    assert platforms_qt_tries({"QT_QPA_PLATFORM": "wayland;xcb:dpi=96"}) == ["wayland", "xcb"]
    # Offscreen (tests, the installers' smoke test) needs nothing from the desktop.
    assert platforms_qt_tries({"QT_QPA_PLATFORM": "offscreen"}) == ["offscreen"]
    assert desktop_libraries_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_the_app_names_a_missing_library_in_one_line_instead_of_starting(tmp_path: Path) -> None:
    # A FAKE plugin: Qt's real xcb plugin, copied, asking for libxcb-cursor.so.9 (no machine
    # has it) instead of libxcb-cursor.so.0. Qt would take it from QT_QPA_PLATFORM_PLUGIN_PATH;
    # it finds Qt's libraries as the real one does ($ORIGIN/../../lib).
    fake = tmp_path / "plugins" / "platforms"
    fake.mkdir(parents=True)
    (tmp_path / "lib").symlink_to(XCB_PLUGIN.parents[2] / "lib")
    real = XCB_PLUGIN.read_bytes()
    assert real.count(b"libxcb-cursor.so.0\0") == 1
    (fake / "libqxcb.so").write_bytes(
        real.replace(b"libxcb-cursor.so.0\0", b"libxcb-cursor.so.9\0")
    )
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", QT_QPA_PLATFORM_PLUGIN_PATH=str(fake))
    done = subprocess.run(
        [sys.executable, "-m", "app.ui.main", "--home", str(tmp_path / "home")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1  # an exit, not Qt's abort
    assert done.stderr.splitlines() == [
        "HiveMind cannot start: libxcb-cursor.so.9 is missing; "
        "install the package that provides it."
    ]
    assert not (tmp_path / "home").exists()  # nothing started


def test_on_a_bare_debian_the_xcb_plugin_names_its_packages() -> None:
    """The real plugin on a real Debian 12 that has no X11, xcb or GL libraries at all."""
    if (
        shutil.which("docker") is None
        or subprocess.run(
            ["docker", "image", "inspect", RUNTIME_IMAGE], capture_output=True
        ).returncode
    ):
        unavailable("Docker", f"no Docker or no {RUNTIME_IMAGE} image (make runtime-image)")
    probe = (
        "from pathlib import Path\n"
        "from app.ui.system_libraries import missing_libraries, missing_libraries_message\n"
        f"print(missing_libraries_message(missing_libraries(Path('/qt/{XCB_PLUGIN.relative_to(PYSIDE)}'))))"
    )
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none",
         "-v", f"{REPO_ROOT / 'app'}:/src/app:ro", "-v", f"{PYSIDE}:/qt:ro",
         "-e", "PYTHONPATH=/src", "-e", "PYTHONDONTWRITEBYTECODE=1",
         RUNTIME_IMAGE, "python3", "-c", probe],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("HiveMind needs ") and "\n" not in line
    install = line.split("(apt install ", 1)[1].split(")", 1)[0].split()
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb1", "libgl1"} <= set(
        install
    )
