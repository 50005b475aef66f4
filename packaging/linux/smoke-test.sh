#!/usr/bin/env bash
# Smoke test of the Linux packages built by `make package`: install, then run the frozen
# executables (packaging/smoke_test.py: --version, the app smoke test offscreen, a headless
# worker completing one task against a test server started from this source tree).
#
#   packaging/linux/smoke-test.sh                     # dist/*.deb when root, else the tarball
#   packaging/linux/smoke-test.sh --deb FILE          # apt-get/dpkg install, removed afterwards
#   packaging/linux/smoke-test.sh --deb FILE --root DIR   # dpkg into DIR: the system untouched
#   packaging/linux/smoke-test.sh --tarball FILE      # unpack into a temporary folder
#
# Options: --keep (leave the package installed), --python PY (default .venv/bin/python).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
deb="" tarball="" root="" keep=0 python="$repo/.venv/bin/python"

while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="$2"; shift 2 ;;
    --tarball) tarball="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --python) python="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$python" ] || { echo "error: no Python at $python (run make venv, or --python PY)" >&2; exit 2; }

if [ -z "$deb" ] && [ -z "$tarball" ]; then
  if [ "$(id -u)" = 0 ] || [ -n "$root" ]; then
    deb="$(ls -t "$repo"/dist/hivemind_*.deb 2>/dev/null | head -n1 || true)"
  fi
  [ -n "$deb" ] || tarball="$(ls -t "$repo"/dist/hivemind-*-linux-*.tar.gz 2>/dev/null | head -n1 || true)"
  if [ -z "$deb" ] && [ -z "$tarball" ]; then
    echo "error: nothing to test in $repo/dist: run make package first" >&2
    exit 2
  fi
fi

scratch="$(mktemp -d -t hivemind-pkg-XXXXXX)"
installed_system=0
cleanup() {
  if [ "$installed_system" = 1 ] && [ "$keep" = 0 ]; then
    echo "smoke: removing the hivemind package"
    dpkg --remove hivemind >/dev/null || echo "warning: dpkg --remove hivemind failed" >&2
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

check_installed_files() {  # $1: the install root ("" for /)
  local r="$1"
  for f in /usr/share/applications/hivemind.desktop \
           /usr/share/icons/hicolor/scalable/apps/hivemind.svg \
           /etc/xdg/autostart/hivemind.desktop /opt/hivemind/hivemind /opt/hivemind/hivemind-app; do
    [ -e "$r$f" ] || { echo "error: the package did not install $f" >&2; exit 1; }
  done
  grep -q '^Hidden=true' "$r/etc/xdg/autostart/hivemind.desktop" ||
    { echo "error: the autostart entry is not off by default" >&2; exit 1; }
  echo "smoke: desktop entry, icon, autostart entry (off) and /opt/hivemind installed"
}

if [ -n "$deb" ]; then
  deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
  if [ -n "$root" ]; then
    # A private dpkg database under DIR: the real package install, without touching the
    # system. Dependencies are the host's business there (the host runs the binaries).
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
    touch "$root/var/lib/dpkg/status"
    if ! out="$(dpkg --root="$root" --force-depends --force-not-root --force-script-chrootless \
                 --log=/dev/null -i "$deb" 2>&1)"; then
      echo "$out" >&2
      exit 1
    fi
    echo "smoke: installed $(basename "$deb") under $root"
    check_installed_files "$root"
    bin_dir="$root/usr/bin"
  else
    [ "$(id -u)" = 0 ] || { echo "error: installing a .deb needs root (or use --root DIR / --tarball)" >&2; exit 2; }
    if command -v apt-get >/dev/null; then
      # apt-get resolves Depends from the archive, as a user's install would.
      apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
    else
      dpkg -i "$deb" >/dev/null
    fi
    installed_system=1
    echo "smoke: installed $(basename "$deb")"
    check_installed_files ""
    bin_dir=/usr/bin
  fi
else
  tar -xzf "$tarball" -C "$scratch"
  bin_dir="$(find "$scratch" -mindepth 1 -maxdepth 1 -type d -name 'hivemind-*' | head -n1)"
  [ -n "$bin_dir" ] || { echo "error: $tarball has no hivemind-<version>/ folder" >&2; exit 1; }
  echo "smoke: unpacked $(basename "$tarball")"
fi

"$python" "$repo/packaging/smoke_test.py" --bin-dir "$bin_dir"
