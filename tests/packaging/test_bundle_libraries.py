"""The rule the spec applies to what the Linux bundle carries (packaging/bundle_libraries.py),
on a FAKE dependency graph standing in for the ELF files of a build machine with GTK 3 (the
real build is tests/packaging/test_linux_package.py), and the ELF reader on real files."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo

from tests.kit.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "packaging"))
from bundle_libraries import carried_binaries, needed_sonames, only_for_plugins

WHEEL = "/venv/lib/python3.11/site-packages/PySide6"
# source -> DT_NEEDED: a FAKE graph. libxcb.so.1 is on the machine but PyInstaller did not
# collect it (it never does); libXau.so.6 came with it.
NEEDS = {
    f"{WHEEL}/QtGui.abi3.so": ["libQt6Gui.so.6"],
    f"{WHEEL}/Qt/lib/libQt6Gui.so.6": ["libglib-2.0.so.0", "libxcb.so.1", "libX11.so.6"],
    f"{WHEEL}/Qt/plugins/platformthemes/libqgtk3.so": ["libQt6Gui.so.6", "libgtk-3.so.0"],
    f"{WHEEL}/Qt/plugins/platforms/libqxcb.so": ["libQt6Gui.so.6", "libxcb-cursor.so.0"],
    "/usr/lib/libgtk-3.so.0": ["libgdk-3.so.0", "libglib-2.0.so.0"],
    "/usr/lib/libgdk-3.so.0": ["libglib-2.0.so.0"],
    "/usr/lib/libglib-2.0.so.0": [],
    "/usr/lib/libX11.so.6": ["libxcb.so.1"],
    "/usr/lib/libxcb.so.1": ["libXau.so.6"],
    "/usr/lib/libXau.so.6": [],
    "/usr/lib/libpython3.11.so.1.0": [],
}
COLLECTED = [
    ("PySide6/QtGui.abi3.so", f"{WHEEL}/QtGui.abi3.so", "EXTENSION"),
    ("PySide6/Qt/lib/libQt6Gui.so.6", f"{WHEEL}/Qt/lib/libQt6Gui.so.6", "BINARY"),
    (
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        f"{WHEEL}/Qt/plugins/platformthemes/libqgtk3.so",
        "BINARY",
    ),
    (
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        f"{WHEEL}/Qt/plugins/platforms/libqxcb.so",
        "BINARY",
    ),
    *(
        (name, f"/usr/lib/{name}", "BINARY")
        for name in ["libgtk-3.so.0", "libgdk-3.so.0", "libglib-2.0.so.0", "libX11.so.6"]
    ),
    ("libXau.so.6", "/usr/lib/libXau.so.6", "BINARY"),
    ("libpython3.11.so.1.0", "/usr/lib/libpython3.11.so.1.0", "BINARY"),
]


def on_this_fake_machine(name: str) -> str | None:
    return f"/usr/lib/{name}" if f"/usr/lib/{name}" in NEEDS else None


def carried(unwanted) -> list[str]:
    kept = carried_binaries(COLLECTED, unwanted, on_this_fake_machine, NEEDS.__getitem__)
    return [dest.rsplit("/", 1)[-1] for dest, _source, _kind in kept]


def test_a_left_out_plugin_takes_the_libraries_only_it_needed() -> None:
    kept = carried(lambda dest: dest.endswith("/libqgtk3.so") or dest == "libX11.so.6")
    # GTK and GDK went with the GTK theme; GLib stays for Qt; libXau went with libX11 and
    # libxcb (which PyInstaller never collected); libpython stays though nothing links it.
    assert kept == [
        "QtGui.abi3.so",
        "libQt6Gui.so.6",
        "libqxcb.so",
        "libglib-2.0.so.0",
        "libpython3.11.so.1.0",
    ]


def test_a_system_library_only_a_plugin_needs_stops_the_build() -> None:
    # The GTK theme kept: GTK and GDK are carried only if the build machine has them.
    kept = carried_binaries(
        COLLECTED, lambda dest: dest == "libX11.so.6", on_this_fake_machine, NEEDS.__getitem__
    )
    assert only_for_plugins(kept, NEEDS.__getitem__) == ["libgdk-3.so.0", "libgtk-3.so.0"]
    assert (
        only_for_plugins(
            [e for e in kept if "gtk" not in e[0] and "gdk" not in e[0]], NEEDS.__getitem__
        )
        == []
    )


def test_needed_sonames_reads_the_real_xcb_plugin(tmp_path: Path) -> None:
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    needed = needed_sonames(plugins / "platforms" / "libqxcb.so")
    assert needed[0] == "libQt6XcbQpa.so.6"
    assert {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"} <= set(needed)
    (tmp_path / "notes.txt").write_text("not an ELF file")
    assert needed_sonames(tmp_path / "notes.txt") == []
