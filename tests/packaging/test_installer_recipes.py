"""The Windows and macOS recipes, checked here where Inno Setup and Xcode cannot run (the
release workflow runs them on their own OS): the Inno Setup script's sections and Pascal
code, the macOS bundle settings in the spec and the .dmg script's refusal to run without a
bundle, and the icons rendered for both."""

from __future__ import annotations

import ast
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from app.ui import autostart
from tests.kit.paths import REPO_ROOT

ISS = REPO_ROOT / "packaging" / "windows" / "hivemind.iss"
SPEC = REPO_ROOT / "packaging" / "hivemind.spec"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def iss_sections() -> dict[str, list[str]]:
    """The script after Inno's preprocessor: `#define`s substituted, continued lines joined,
    comments dropped; section name -> its lines."""
    text = ISS.read_text()
    defines = dict(re.findall(r'^\s*#define\s+(\w+)\s+"([^"]*)"', text, flags=re.M))
    for name, value in defines.items():
        text = text.replace("{#" + name + "}", value)
    text = re.sub(r"\\\n\s*", "", text)
    sections: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if re.fullmatch(r"\[\w+\]", line):
            current = sections.setdefault(line[1:-1], [])
        elif current is not None and line and not line.startswith(";"):
            current.append(line)
    return sections


def entry(line: str) -> dict[str, str]:
    """An Inno entry line `Name: "x"; Flags: y` as a dict."""
    fields = {}
    for part in re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]+)', line):
        key, value = part
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('""', '"')  # Inno doubles a quote inside quotes
        fields[key] = value
    return fields


def setup_values() -> dict[str, str]:
    return dict(line.split("=", 1) for line in iss_sections()["Setup"])


def test_per_user_install_without_admin_rights() -> None:
    setup = setup_values()
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"].startswith("{autopf}")
    assert setup["AppId"].startswith("{{")  # fixed, so upgrades find the install
    license_file = setup["LicenseFile"].replace("\\", "/")
    assert (ISS.parent / license_file).resolve() == REPO_ROOT / "LICENSE.txt"
    assert "{#AppVersion}" not in setup["OutputBaseFilename"]  # substituted


def test_installer_takes_the_bundle_build_py_makes() -> None:
    bundle = re.search(r'#define BundleDir "([^"]+)"', ISS.read_text()).group(1)
    sys.path.insert(0, str(REPO_ROOT / "packaging"))
    try:
        import build
    finally:
        sys.path.pop(0)
    bundle_dir = (ISS.parent / bundle.replace("\\", "/")).resolve()
    assert bundle_dir == REPO_ROOT / "dist" / build.BUNDLE_NAME
    files = [entry(line) for line in iss_sections()["Files"]]
    assert any("recursesubdirs" in f.get("Flags", "") for f in files)


def test_start_menu_entry_opens_the_app() -> None:
    icons = [entry(line) for line in iss_sections()["Icons"]]
    app = next(i for i in icons if i["Name"] == "{group}\\HiveMind")
    assert app["Filename"] == "{app}\\hivemind-app.exe"


def test_start_at_login_is_optional_and_is_the_apps_own_setting() -> None:
    tasks = {entry(line)["Name"]: entry(line) for line in iss_sections()["Tasks"]}
    assert "unchecked" in tasks["startatlogin"]["Flags"]
    run_values = [
        entry(line)
        for line in iss_sections()["Registry"]
        if entry(line).get("Tasks") == "startatlogin"
    ]
    assert len(run_values) == 1
    value = run_values[0]
    # The same value the app's Settings switch reads and writes (app/ui/autostart.py).
    assert value["Root"] == "HKCU"
    assert value["Subkey"] == autostart.RUN_KEY
    assert value["ValueName"] == autostart.RUN_VALUE
    assert value["ValueData"] == f'"{{app}}\\hivemind-app.exe" {autostart.BACKGROUND_FLAG}'


def test_uninstaller_stops_the_app_and_removes_its_login_entry() -> None:
    code = "\n".join(iss_sections()["Code"])
    uninstall = re.search(r"function InitializeUninstall\(\).*?end;", code, re.S).group(0)
    assert "StopHiveMind()" in uninstall
    stop = re.search(r"procedure StopHiveMind\(\);.*?\nend;", code, re.S).group(0)
    assert "taskkill.exe" in stop and "hivemind-app.exe" in stop and "hivemind.exe" in stop
    post = re.search(r"procedure CurUninstallStepChanged.*?\nend;", code, re.S).group(0)
    assert f"RegDeleteValue(HKCU, '{autostart.RUN_KEY}', '{autostart.RUN_VALUE}')" in post


def test_docker_note_page_only_when_docker_is_missing() -> None:
    code = "\n".join(iss_sections()["Code"])
    assert "docker.exe" in re.search(r"function DockerFound\(\).*?\nend;", code, re.S).group(0)
    page = re.search(r"CreateOutputMsgPage\((.*?)\);", code, re.S).group(1)
    assert "Docker Desktop" in page and "wsl --install" in page
    skip = re.search(r"function ShouldSkipPage.*?\nend;", code, re.S).group(0)
    assert "DockerFound()" in skip


def pascal_code_only(code: str) -> str:
    """The code with strings emptied and comments removed, scanned left to right (a quote
    inside a comment, or a brace inside a string, is not what it looks like)."""
    out, i = [], 0
    while i < len(code):
        if code[i] == "'":
            end = i + 1
            while end < len(code) and not (code[end] == "'" and code[end + 1 : end + 2] != "'"):
                end += 2 if code[end : end + 2] == "''" else 1
            out.append("''")
            i = end + 1
        elif code[i] == "{":
            i = code.index("}", i) + 1
        elif code.startswith("//", i):
            i = code.find("\n", i) if "\n" in code[i:] else len(code)
        else:
            out.append(code[i])
            i += 1
    return "".join(out)


def test_pascal_blocks_are_balanced() -> None:
    code = pascal_code_only("\n".join(iss_sections()["Code"]))
    assert "'" not in code.replace("''", "")
    assert len(re.findall(r"\bbegin\b", code)) == len(re.findall(r"\bend\b", code)) > 5


def spec_info_plist() -> dict[str, object]:
    call = next(
        node
        for node in ast.walk(ast.parse(SPEC.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "BUNDLE"
    )
    plist = next(k.value for k in call.keywords if k.arg == "info_plist")
    values = {}
    for key, value in zip(plist.keys, plist.values, strict=True):
        if isinstance(value, ast.Constant):
            values[key.value] = value.value
    return values


def test_macos_bundle_is_tray_only_without_app_nap() -> None:
    plist = spec_info_plist()
    assert plist["LSUIElement"] is True
    assert plist["NSAppSleepDisabled"] is True


def test_dmg_script_refuses_to_run_without_a_bundle(tmp_path: Path) -> None:
    # A copy of the script in an empty tree: it must stop with a clear message, not half-run.
    script = tmp_path / "packaging" / "macos" / "build-dmg.sh"
    script.parent.mkdir(parents=True)
    script.write_text((REPO_ROOT / "packaging" / "macos" / "build-dmg.sh").read_text())
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "HiveMind.app is missing: run python packaging/build.py first" in done.stderr


def test_dmg_script_notarizes_only_with_credentials() -> None:
    text = (REPO_ROOT / "packaging" / "macos" / "build-dmg.sh").read_text()
    guard = text.index('if [ -n "$identity" ] && { [ -n "${NOTARY_PROFILE:-}" ]')
    assert guard < text.index("xcrun notarytool submit")
    assert "notarization skipped" in text


@pytest.mark.parametrize(
    "script",
    [
        "packaging/macos/build-dmg.sh",
        "packaging/macos/smoke-test.sh",
        "packaging/linux/smoke-test.sh",
    ],
)
def test_shell_scripts_parse(script: str) -> None:
    done = subprocess.run(["bash", "-n", str(REPO_ROOT / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", png[16:24])


def test_icons_for_windows_and_macos_carry_every_size(tmp_path: Path) -> None:
    # A subprocess: the renderer makes a QGuiApplication, and this test process may later
    # need a QApplication for the UI tests.
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "packaging" / "icons.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    ico = (tmp_path / "hivemind.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        width, _h, _c, _r, _p, _b, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * i : 22 + 16 * i]
        )
        side = png_size(ico[offset : offset + length])[0]
        assert side == (width or 256)
        sizes.append(side)
    assert {16, 32, 48, 256} <= set(sizes)

    icns = (tmp_path / "HiveMind.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    at, sides = 8, {}
    while at < len(icns):
        kind, length = icns[at : at + 4], struct.unpack(">I", icns[at + 4 : at + 8])[0]
        sides[kind] = png_size(icns[at + 8 : at + length])[0]
        at += length
    assert sides[b"ic10"] == 1024 and sides[b"ic07"] == 128
