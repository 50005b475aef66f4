#!/usr/bin/env bash
# Saves a runtime image (`docker save`) and registers it with a server's data dir as an
# approved runtime: the archive is stored as a RUNTIME artifact, pinned by its image id, and
# workers that lack the image fetch it from the server and `docker load` it (no registry).
# Works while the server runs. Usage: register-image.sh IMAGE RUNTIME DATA_DIR [SERVER_CLI]
set -euo pipefail
image="$1"
runtime="$2"
data_dir="$3"
server_cli="${4:-hivemind-server}"
if [ ! -e "$data_dir/hivemind.db" ]; then
  echo "no HiveMind data in $data_dir: start the server once (hivemind-server run --data-dir" \
    "$data_dir) or create its admin (hivemind-server admin create-user)" >&2
  exit 1
fi
archive="$(mktemp "${TMPDIR:-/tmp}/hivemind-runtime.XXXXXX")"
trap 'rm -f "$archive"' EXIT
echo "saving $image (docker save)"
docker save "$image" -o "$archive"
"$server_cli" admin runtime add "$runtime" --image-archive "$archive" --data-dir "$data_dir"
