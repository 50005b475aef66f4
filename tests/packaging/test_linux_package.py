"""`make package` for real (PyInstaller, then the .tar.gz and the .deb), the packages' contents
as a user would find them, and the Linux smoke test on the installed .deb: the frozen
`hivemind --version`, the app's smoke test offscreen, and a frozen headless worker that
completes a task for a user registered with the frozen CLI.

The .deb is installed with dpkg into a private root (its own dpkg database), so the test
changes nothing on the machine; `packaging/linux/smoke-test.sh` with no --root does the
system-wide install (the release workflow does that). With --bare-debian it installs the .deb
with apt-get in a Debian 12 container that has none of the desktop's libraries, and opens the
app there on X11.

The bundle must not depend on what the build machine has installed: none of the desktop's
libraries are carried, and on a machine with GTK 3 (CI installs libgtk-3-0) Qt's GTK platform
theme and GTK stay out."""

from __future__ import annotations

import ctypes.util
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from app.ui.system_libraries import DEBIAN_PACKAGES
from tests.kit.ci import unavailable
from tests.kit.paths import REPO_ROOT

VERSION = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None,
        reason="the Linux packages need Linux with dpkg-deb",
    ),
]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make package` makes (`packaging/build.py`), with quick compression."""
    out = tmp_path_factory.mktemp("dist")
    work = tmp_path_factory.mktemp("pyinstaller-work")
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "packaging" / "build.py"), "--dist", str(out),
         "--work", str(work), "--fast"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=840,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    # The size the installers carry, for whoever reads the test log.
    print(done.stdout)
    return out


@pytest.fixture(scope="module")
def deb(dist: Path) -> Path:
    return next(dist.glob("hivemind_*.deb"))


def deb_field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_packages_are_named_for_the_version(dist: Path) -> None:
    assert (dist / f"hivemind-{VERSION}-linux-x86_64.tar.gz").is_file() or (
        dist / f"hivemind-{VERSION}-linux-aarch64.tar.gz"
    ).is_file()
    assert [p.name for p in dist.glob("*.deb")] in (
        [f"hivemind_{VERSION}_amd64.deb"],
        [f"hivemind_{VERSION}_arm64.deb"],
    )


def test_deb_control_depends_only_on_system_libraries(deb: Path) -> None:
    assert deb_field(deb, "Package") == "hivemind"
    assert deb_field(deb, "Version") == VERSION
    depends = [d.strip() for d in deb_field(deb, "Depends").split(",")]
    assert re.fullmatch(r"libc6 \(>= 2\.\d+\)", depends[0])
    # Python, Qt and every Python library travel inside the bundle; the desktop's libraries
    # are the system's, whatever the build machine had installed.
    assert set(depends[1:]) <= set(DEBIAN_PACKAGES.values())
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libx11-6", "libgl1"} <= set(
        depends
    )


def test_bundle_carries_none_of_the_desktops_libraries(dist: Path) -> None:
    internal = dist / "hivemind" / "_internal"
    carried = {p.name for p in internal.rglob("*.so*")}
    assert "libqxcb.so" in carried and "libQt6XcbQpa.so.6" in carried
    assert not carried & set(DEBIAN_PACKAGES)
    # Nor what only those needed (libxcb's own libXau, fontconfig's expat...).
    assert not {"libXau.so.6", "libXdmcp.so.6", "libexpat.so.1", "libpng16.so.16"} & carried
    assert not [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]


def test_gtk_on_the_build_machine_stays_out_of_the_bundle(dist: Path) -> None:
    """A desktop has GTK 3 (CI installs libgtk-3-0): Qt's GTK platform theme and the GTK stack
    it would bring are left out, so the bundle is the one a bare machine builds."""
    if ctypes.util.find_library("gtk-3") is None:
        unavailable("GTK 3 packaging", "libgtk-3-0 is not installed: the GTK case is not tried")
    internal = dist / "hivemind" / "_internal"
    carried = {p.name for p in internal.rglob("*.so*")}
    assert "libqgtk3.so" not in carried
    gtk = [n for n in carried if re.match(r"lib(gtk|gdk|atk|cairo|pango|harfbuzz|epoxy)", n)]
    assert not gtk


def test_deb_installs_the_app_menu_entry_icon_and_commands(deb: Path) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    entries = {line.split()[5]: line for line in listing.splitlines()}
    for path in (
        "./opt/hivemind/hivemind",
        "./opt/hivemind/hivemind-app",
        "./usr/share/applications/hivemind.desktop",
        "./usr/share/icons/hicolor/scalable/apps/hivemind.svg",
        "./etc/xdg/autostart/hivemind.desktop",
        "./usr/share/doc/hivemind/copyright",
    ):
        assert path in entries, path
        assert " root/root " in entries[path]
    assert "./usr/bin/hivemind -> ../../opt/hivemind/hivemind" in listing
    assert "./usr/bin/hivemind-app -> ../../opt/hivemind/hivemind-app" in listing
    # Unused Qt modules stay out (size): no QML/Quick, WebEngine, PDF, 3D, Multimedia.
    unused = re.findall(r"libQt6(Qml|Quick|WebEngine|Pdf|3D|Multimedia)\w*\.so", listing)
    assert not unused
    qt_translations = re.findall(r"/translations/(q\w+?)\.qm", listing)
    assert qt_translations and all(t.endswith(("_en", "_zh_TW")) for t in qt_translations)


def test_desktop_entries(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    menu = (tmp_path / "usr/share/applications/hivemind.desktop").read_text()
    assert "Exec=hivemind-app\n" in menu and "Icon=hivemind\n" in menu
    login = (tmp_path / "etc/xdg/autostart/hivemind.desktop").read_text()
    assert "Exec=hivemind-app --background\n" in login
    assert "Hidden=true\n" in login  # off until the user (or the admin) turns it on
    conffiles = subprocess.run(
        ["dpkg-deb", "-I", str(deb), "conffiles"], capture_output=True, text=True, check=True
    ).stdout
    assert "/etc/xdg/autostart/hivemind.desktop" in conffiles


def test_each_executable_runs_its_own_entry_point(dist: Path) -> None:
    """Two executables from one analysis: each must start its own program, and the desktop
    bundle must not carry the server (app/ never imports server/)."""

    def contents(exe: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "PyInstaller.utils.cliutils.archive_viewer", "-r", "-b",
             str(dist / "hivemind" / exe)],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip

    app, cli = contents("hivemind-app"), contents("hivemind")
    assert re.search(r"^\s*hivemind_app$", app, re.M) and not re.search(
        r"^\s*hivemind_cli$", app, re.M
    )
    assert re.search(r"^\s*hivemind_cli$", cli, re.M) and not re.search(
        r"^\s*hivemind_app$", cli, re.M
    )
    for listing in (app, cli):
        assert re.search(r"^\s*app\.ui\.main$", listing, re.M)
        assert re.search(r"^\s*app\.cli\.worker$", listing, re.M)
        assert not re.search(r"^\s*server(\.\w+)*$", listing, re.M)


def test_tarball_is_one_portable_folder(dist: Path) -> None:
    tarball = next(dist.glob("hivemind-*-linux-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        members = {m.name: m for m in tar.getmembers()}
    top = f"hivemind-{VERSION}"
    assert {n.split("/", 1)[0] for n in names} == {top}
    for exe in ("hivemind", "hivemind-app"):
        assert members[f"{top}/{exe}"].mode & 0o111
    assert f"{top}/share/applications/hivemind.desktop" in names
    assert f"{top}/README.txt" in names and f"{top}/LICENSE.txt" in names
    assert {m.uname for m in members.values()} == {"root"}
    with tarfile.open(tarball) as tar:
        readme = tar.extractfile(f"{top}/README.txt").read().decode()
    # The packages to install are the .deb's Depends.
    assert "libxcb-cursor0" in readme and "@PACKAGES@" not in readme


def test_smoke_test_passes_on_the_installed_deb(deb: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "packaging" / "linux" / "smoke-test.sh"), "--deb", str(deb),
         "--root", str(root), "--python", sys.executable],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for line in (
        "smoke: desktop entry, icon, autostart entry (off) and /opt/hivemind installed",
        f"smoke: check version: hivemind {VERSION}",
        "smoke: check app smoke: hivemind-app --smoke-test and hivemind app --smoke-test exit 0",
        "smoke: check result: result.txt is right; contributor paid",
        "smoke: all steps passed",
    ):
        assert line in output, output[-6000:]
    # The frozen `hivemind` on PATH is the installed symlink.
    assert (root / "usr/bin/hivemind").resolve() == (root / "opt/hivemind/hivemind").resolve()


def test_deb_on_a_bare_debian_installs_what_the_app_needs_and_the_app_starts(deb: Path) -> None:
    """apt-get installs the .deb on a Debian 12 without X11, xcb or GL libraries (a container);
    the app then opens on X11, and says which package is missing once one is removed."""
    problem = bare_debian_problem()
    if problem:
        unavailable("Bare Debian package", problem)
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "packaging" / "linux" / "smoke-test.sh"), "--deb", str(deb),
         "--bare-debian", "--python", sys.executable],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for line in (
        "smoke: bare Debian 12 without the xcb libraries: apt-get installed the .deb with the",
        f"smoke: bare Debian: hivemind {VERSION}",
        "smoke: bare Debian: hivemind-app --smoke-test and hivemind app --smoke-test exit 0 on "
        "X11 (xcb)",
        "smoke: bare Debian without libxcb-cursor0: HiveMind needs libxcb-cursor0 "
        "(apt install libxcb-cursor0): libxcb-cursor.so.0 is missing.",
        "smoke: bare Debian: all steps passed",
    ):
        assert line in output, output[-6000:]


def bare_debian_problem() -> str | None:
    if shutil.which("Xvfb") is None:
        return "Xvfb is not installed (apt-get install xvfb)"
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "info"], capture_output=True).returncode
    ):
        return "no Docker daemon reachable"
    if (
        shutil.which("mmdebstrap") is None
        and subprocess.run(
            ["docker", "image", "inspect", "hivemind/debian-bare:bookworm"], capture_output=True
        ).returncode
    ):
        return "neither mmdebstrap nor the hivemind/debian-bare:bookworm image"
    return None
