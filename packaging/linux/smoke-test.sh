#!/usr/bin/env bash
# Smoke test of the Linux packages built by `make package`: install, then run the frozen
# executables (packaging/smoke_test.py: --version, the app smoke test offscreen, a headless
# worker completing one task against a test server started from this source tree).
#
#   packaging/linux/smoke-test.sh                     # dist/*.deb when root, else the tarball
#   packaging/linux/smoke-test.sh --deb FILE          # apt-get/dpkg install, removed afterwards
#   packaging/linux/smoke-test.sh --deb FILE --root DIR   # dpkg into DIR: the system untouched
#   packaging/linux/smoke-test.sh --tarball FILE      # unpack into a temporary folder
#   packaging/linux/smoke-test.sh --deb FILE --bare-debian
#       apt-get install on a fresh Debian 12 without the desktop's libraries (a container made
#       with mmdebstrap on first use, Docker needed), the app opened on X11 (Xvfb), and the
#       one line it prints when an xcb library is missing
#
# Options: --keep (leave the package installed), --python PY (default .venv/bin/python).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
deb="" tarball="" root="" keep=0 bare=0 python="$repo/.venv/bin/python"
BARE_IMAGE="${HIVEMIND_BARE_DEBIAN_IMAGE:-hivemind/debian-bare:bookworm}"

while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="$2"; shift 2 ;;
    --tarball) tarball="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --bare-debian) bare=1; shift ;;
    --python) python="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
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
installed_system=0 xvfb_pid="" container=""
cleanup() {
  if [ "$installed_system" = 1 ] && [ "$keep" = 0 ]; then
    echo "smoke: removing the hivemind package"
    dpkg --remove hivemind >/dev/null || echo "warning: dpkg --remove hivemind failed" >&2
  fi
  [ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1 || true
  [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# What runs inside the bare Debian container, as root, with the .deb at /tmp/hivemind.deb.
BARE_STEPS='
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
for pkg in libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libx11-6 libgl1 libfontconfig1; do
  if dpkg -s "$pkg" >/dev/null 2>&1; then
    echo "error: the bare Debian image already has $pkg" >&2; exit 1
  fi
done
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends /tmp/hivemind.deb >/tmp/apt.log 2>&1; then
  tail -n 30 /tmp/apt.log >&2; exit 1
fi
for pkg in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { echo "error: installing the .deb did not install $pkg" >&2; exit 1; }
done
echo "smoke: bare Debian 12 without the xcb libraries: apt-get installed the .deb with" \
  "the $(($(grep -c "^Setting up" /tmp/apt.log) - 1)) packages its Depends pulled in"
echo "smoke: bare Debian: $(hivemind --version)"
export QT_QPA_PLATFORM=xcb
hivemind-app --smoke-test >/tmp/app.log 2>&1 || { cat /tmp/app.log >&2; exit 1; }
hivemind app --smoke-test >/tmp/app.log 2>&1 || { cat /tmp/app.log >&2; exit 1; }
echo "smoke: bare Debian: hivemind-app --smoke-test and hivemind app --smoke-test exit 0 on X11 (xcb)"
dpkg --remove --force-depends libxcb-cursor0 >/dev/null 2>&1
for app in hivemind-app "hivemind app"; do
  if $app --smoke-test >/tmp/app.log 2>&1; then
    echo "error: $app started without libxcb-cursor0" >&2; exit 1
  fi
  if [ "$(grep -c . /tmp/app.log)" != 1 ] || ! grep -q "^HiveMind needs libxcb-cursor0 " /tmp/app.log; then
    echo "error: without libxcb-cursor0, $app printed:" >&2; cat /tmp/app.log >&2; exit 1
  fi
done
echo "smoke: bare Debian without libxcb-cursor0: $(cat /tmp/app.log)"
'

bare_debian() {  # $1: the .deb
  if ! docker info >/dev/null 2>&1; then
    echo "error: --bare-debian needs a running Docker daemon" >&2; exit 2
  fi
  command -v Xvfb >/dev/null || { echo "error: --bare-debian needs Xvfb: apt-get install xvfb" >&2; exit 2; }
  if ! docker image inspect "$BARE_IMAGE" >/dev/null 2>&1; then
    command -v mmdebstrap >/dev/null ||
      { echo "error: mmdebstrap is missing: apt-get install -y mmdebstrap" >&2; exit 2; }
    echo "smoke: building $BARE_IMAGE (mmdebstrap --variant=apt bookworm, about a minute)"
    mmdebstrap --quiet --variant=apt bookworm - | docker import - "$BARE_IMAGE" >/dev/null
  fi
  # An X server for the app on a free display. The container shares this machine's network
  # namespace (apt-get reaches the Debian mirror as this machine does), so the app reaches the
  # server through its abstract socket.
  Xvfb -displayfd 3 -noreset -nolisten tcp -screen 0 1280x800x24 3>"$scratch/display" \
    >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 1 100); do [ -s "$scratch/display" ] && break; sleep 0.1; done
  [ -s "$scratch/display" ] || { echo "error: Xvfb did not start" >&2; exit 1; }
  container="hivemind-bare-smoke-$$"
  docker run --rm --name "$container" --network host -i \
    -e DISPLAY=":$(cat "$scratch/display")" -e LANG=C.UTF-8 -e HIVEMIND_KEYRING=file \
    -v "$1:/tmp/hivemind.deb:ro" "$BARE_IMAGE" bash -s <<<"$BARE_STEPS"
  echo "smoke: bare Debian: all steps passed"
}

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

if [ "$bare" = 1 ]; then
  [ -n "$deb" ] || { echo "error: --bare-debian needs --deb FILE" >&2; exit 2; }
  bare_debian "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
  exit 0
fi

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
