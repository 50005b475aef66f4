#!/usr/bin/env bash
# macOS: mount the .dmg, copy HiveMind.app out as a user would, and run the frozen smoke test
# (packaging/smoke_test.py) on the executables inside the bundle.
#
#   bash packaging/macos/smoke-test.sh [DMG] [--python PY] [-- smoke_test.py options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="$repo/.venv/bin/python"
dmg=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) dmg="$1"; shift ;;
  esac
done
[ -n "$dmg" ] || dmg="$(ls -t "$repo"/dist/hivemind-*-macos-*.dmg 2>/dev/null | head -n1 || true)"
[ -f "$dmg" ] || { echo "error: no .dmg to test: run build-dmg.sh first" >&2; exit 2; }

scratch="$(mktemp -d)"
mount="$scratch/mnt"
cleanup() { hdiutil detach -quiet "$mount" 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT
hdiutil attach -quiet -nobrowse -readonly -mountpoint "$mount" "$dmg"
cp -R "$mount/HiveMind.app" "$scratch/"
hdiutil detach -quiet "$mount"
app="$scratch/HiveMind.app"
codesign --verify --deep --strict "$app"
for key in LSUIElement NSAppSleepDisabled; do
  [ "$(/usr/libexec/PlistBuddy -c "Print :$key" "$app/Contents/Info.plist")" = "true" ] ||
    { echo "error: $key is not true in the installed app" >&2; exit 1; }
done
echo "smoke: $(basename "$dmg") mounted, HiveMind.app copied, signature and Info.plist ok"
"$python" "$repo/packaging/smoke_test.py" --bin-dir "$app/Contents/MacOS" ${extra[@]+"${extra[@]}"}
