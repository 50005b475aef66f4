"""Build the desktop bundle with PyInstaller and, on Linux, its two downloads:

    python packaging/build.py                      # what `make package` runs
    python packaging/build.py --dist DIR --work DIR --no-freeze

Every OS: dist/hivemind/ (one folder: `hivemind-app`, `hivemind`, `_internal/`; on macOS also
dist/HiveMind.app). Linux adds dist/hivemind-<version>-linux-<arch>.tar.gz and
dist/hivemind_<version>_<debarch>.deb. Windows and macOS installers are made from the folder
by packaging/windows/hivemind.iss and packaging/macos/build-dmg.sh.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The shared libraries the bundle takes from the system, by soname -> the
# Debian package that provides it (None when the app runs without it); the app names the
# package from the same table when one is missing. The spec never bundles them, so the bundle
# is the same on a bare and on a full desktop machine. The .deb depends on exactly the packages
# of the sonames the built bundle needs and does not carry, and the build stops when one is not
# in the table: a new dependency must be looked at by a person.
from bundle_libraries import needed_sonames  # noqa: E402

from app.ui.system_libraries import DEBIAN_PACKAGES  # noqa: E402

SPEC = ROOT / "packaging" / "hivemind.spec"
LINUX = ROOT / "packaging" / "linux"
BUNDLE_NAME = "hivemind"  # COLLECT's name in the spec
DEB_PACKAGE = "hivemind"
INSTALL_DIR = "opt/hivemind"
# A release sets the real address; .invalid is the reserved "no such domain" placeholder.
MAINTAINER = os.environ.get(
    "HIVEMIND_DEB_MAINTAINER", "HiveMind developers <packaging@hivemind.invalid>"
)
# Loaded by name with ctypes, so no bundled binary links against them: X11 idle time
# (app/services/policy/idle.py).
LOADED_WITH_CTYPES = ["libX11.so.6", "libXss.so.1"]
# GNOME shows tray icons only with this extension; Docker is the default sandbox. Neither is
# needed to install, nor to run the worker with the process executor.
DEB_SUGGESTS = ["gnome-shell-extension-appindicator", "docker.io | docker-ce"]
DESCRIPTION = """HiveMind desktop app and worker for the shared-computing network
 HiveMind lends the idle CPU, memory and GPU of this computer to sandboxed
 tasks and earns CPT (Computing Power Tokens) for it. This package has the
 tray app (hivemind-app) and the command line (hivemind), which also runs a
 headless worker and submits jobs. Tasks run in Docker containers with hard
 limits; install Docker to contribute with the default sandbox."""


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def debian_version(version: str) -> str:
    """PEP 440 to Debian ordering: a pre-release sorts before its release with '~'."""
    return re.sub(r"\.?(a|b|rc|dev)(\d*)", r"~\1\2", version)


def machine_arch() -> tuple[str, str]:
    """(tarball arch, Debian arch) of this machine."""
    machine = platform.machine().lower()
    debian = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    if machine not in debian:
        raise SystemExit(f"error: no Debian architecture known for machine {machine!r}")
    return ("x86_64" if debian[machine] == "amd64" else "aarch64"), debian[machine]


def freeze(dist: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; returns the one-folder bundle."""
    env = dict(os.environ)
    # Rendering icons and importing Qt during analysis needs no display.
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(SPEC),
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )
    bundle = dist / BUNDLE_NAME
    if not (bundle / executable("hivemind")).exists():
        raise SystemExit(f"error: PyInstaller finished but {bundle} has no hivemind executable")
    return bundle


def executable(name: str) -> str:
    return f"{name}.exe" if sys.platform == "win32" else name


def desktop_entry(template: str, exec_line: str) -> str:
    return (LINUX / template).read_text().replace("@EXEC@", exec_line)


def linux_tarball(
    bundle: Path, dist: Path, version: str, arch: str, depends: list[str], fast: bool = False
) -> Path:
    """hivemind-<v>-linux-<arch>.tar.gz: one folder to unpack anywhere and run from. Its
    README names the system packages it needs: the .deb's Depends."""
    top = f"hivemind-{version}"
    out = dist / f"hivemind-{version}-linux-{arch}.tar.gz"
    stage = dist / ".tarball-stage"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(bundle, stage / top, symlinks=True)
    share = stage / top / "share"
    (share / "applications").mkdir(parents=True)
    # Absolute Exec lines are the installer's job: `share/` is for users who copy the entry.
    (share / "applications" / "hivemind.desktop").write_text(
        desktop_entry("hivemind.desktop", "hivemind-app")
    )
    icon_dir = share / "icons" / "hicolor" / "scalable" / "apps"
    icon_dir.mkdir(parents=True)
    shutil.copy2(ROOT / "assets" / "icons" / "hivemind.svg", icon_dir / "hivemind.svg")
    shutil.copy2(ROOT / "LICENSE.txt", stage / top / "LICENSE.txt")
    packages = " ".join(d.split()[0] for d in depends if not d.startswith("libc6"))
    # Shell lines to paste after "sudo apt install \".
    packages = " \\\n".join(
        textwrap.wrap(
            packages, 86, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
        )
    )
    readme = (LINUX / "README-linux.txt").read_text().replace("@PACKAGES@", packages)
    (stage / top / "README.txt").write_text(readme)
    with tarfile.open(out, "w:gz", compresslevel=1 if fast else 6) as tar:
        tar.add(stage / top, arcname=top, filter=_normalize_owner)
    shutil.rmtree(stage)
    return out


def _normalize_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The archive must not carry the build machine's user (root, runner...).
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def linux_deb(
    bundle: Path, dist: Path, version: str, deb_arch: str, depends: list[str], fast: bool = False
) -> Path:
    """hivemind_<v>_<arch>.deb: the bundle in /opt/hivemind, `hivemind` and `hivemind-app`
    on PATH, a desktop entry, the icon, and a login autostart entry that is off by default."""
    deb_version = debian_version(version)
    out = dist / f"{DEB_PACKAGE}_{deb_version}_{deb_arch}.deb"
    root = dist / ".deb-root"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(bundle, root / INSTALL_DIR, symlinks=True)
    usr_bin = root / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    for name in ("hivemind", "hivemind-app"):
        # Relative, so the package also works unpacked under another root (dpkg --root).
        (usr_bin / name).symlink_to(Path("..", "..", INSTALL_DIR, name))
    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / "hivemind.desktop").write_text(
        desktop_entry("hivemind.desktop", "hivemind-app")
    )
    icons = root / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy2(ROOT / "assets" / "icons" / "hivemind.svg", icons / "hivemind.svg")
    autostart = root / "etc" / "xdg" / "autostart"
    autostart.mkdir(parents=True)
    (autostart / "hivemind.desktop").write_text(
        desktop_entry("hivemind-autostart.desktop", "hivemind-app --background")
    )
    doc = root / "usr" / "share" / "doc" / DEB_PACKAGE
    doc.mkdir(parents=True)
    shutil.copy2(LINUX / "copyright", doc / "copyright")

    debian = root / "DEBIAN"
    debian.mkdir()
    # /etc/xdg/autostart/hivemind.desktop is configuration: an admin who turns it on for
    # every user keeps that choice across upgrades.
    (debian / "conffiles").write_text("/etc/xdg/autostart/hivemind.desktop\n")
    (debian / "control").write_text(
        deb_control(deb_version, deb_arch, installed_kib=_tree_kib(root), depends=depends)
    )
    for path in root.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    # xz makes the download a third smaller than gzip and takes a minute; --fast is for tests.
    compression = ["-Zgzip", "-z1"] if fast else ["-Zxz", "-z6"]
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", *compression, "--build", str(root), str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(root)
    return out


def deb_control(deb_version: str, deb_arch: str, installed_kib: int, depends: list[str]) -> str:
    fields = {
        "Package": DEB_PACKAGE,
        "Version": deb_version,
        "Architecture": deb_arch,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(depends),
        "Suggests": ", ".join(DEB_SUGGESTS),
        "Section": "net",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def _elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def system_libraries(bundle: Path) -> dict[str, set[str]]:
    """soname -> the bundled files that need it, for every library a bundled binary links
    against and the bundle does not carry (resolved from the system, or not found at all), as
    the dynamic loader sees it. What those system libraries need in turn is their packages'
    business."""
    elves = _elf_files(bundle)
    library_dirs = sorted({str(p.parent) for p in elves if ".so" in p.name})
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(library_dirs))
    needed: dict[str, set[str]] = {}
    for elf in elves:
        direct = set(needed_sonames(elf))
        done = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env)
        for line in done.stdout.splitlines():
            name, arrow, where = line.strip().partition(" => ")
            if not arrow or name not in direct:
                continue  # linux-vdso, the loader itself, or what a system library needs
            if where.startswith("not found") or not where.startswith(str(bundle)):
                needed.setdefault(name, set()).add(str(elf.relative_to(bundle)))
    return needed


def glibc_floor(bundle: Path) -> str:
    """The newest GLIBC_x.y symbol version any bundled binary asks for: the oldest C library
    the bundle runs on (the build machine's, at most)."""
    versions = {(2, 17)}
    for elf in _elf_files(bundle):
        for major, minor in re.findall(rb"GLIBC_(\d+)\.(\d+)", elf.read_bytes()):
            versions.add((int(major), int(minor)))
    major, minor = max(versions)
    return f"{major}.{minor}"


def debian_depends(bundle: Path) -> list[str]:
    """Depends for the .deb: the C library at the version the bundle needs, and the package
    of every other library it takes from the system."""
    needed = system_libraries(bundle)
    unknown = sorted(name for name in needed if name not in DEBIAN_PACKAGES)
    if unknown:
        detail = "; ".join(f"{n} (for {sorted(needed[n])[0]})" for n in unknown)
        raise SystemExit(
            f"error: the bundle needs libraries it does not carry: {detail}. Add each to "
            "DEBIAN_PACKAGES in app/ui/system_libraries.py with its Debian package."
        )
    packages = {DEBIAN_PACKAGES[name] for name in [*needed, *LOADED_WITH_CTYPES]}
    return [f"libc6 (>= {glibc_floor(bundle)})", *sorted(p for p in packages - {"libc6"} if p)]


def _tree_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir())
    return (total + 1023) // 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the HiveMind desktop bundle.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller cache"
    )
    parser.add_argument(
        "--no-freeze", action="store_true", help="reuse DIST/hivemind from an earlier build"
    )
    parser.add_argument(
        "--fast", action="store_true", help="quick, light compression (tests; bigger files)"
    )
    args = parser.parse_args(argv)
    dist = args.dist.resolve()
    version = project_version()
    if args.no_freeze:
        bundle = dist / BUNDLE_NAME
        if not bundle.is_dir():
            print(f"error: --no-freeze but {bundle} does not exist", file=sys.stderr)
            return 1
    else:
        bundle = freeze(dist, args.work.resolve())
    print(f"bundle: {bundle} ({_tree_kib(bundle) // 1024} MiB)")
    if sys.platform.startswith("linux"):
        if shutil.which("dpkg-deb") is None:
            print("error: dpkg-deb is missing: apt-get install -y dpkg", file=sys.stderr)
            return 1
        arch, deb_arch = machine_arch()
        # Checked before anything is written: the bundle takes only known system libraries.
        depends = debian_depends(bundle)
        print(f"deb depends: {', '.join(depends)}")
        print(f"tarball: {linux_tarball(bundle, dist, version, arch, depends, args.fast)}")
        print(f"deb: {linux_deb(bundle, dist, version, deb_arch, depends, args.fast)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
