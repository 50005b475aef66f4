#!/usr/bin/env bash
# Docker for the test suite on a fresh Debian machine: installs docker.io and mmdebstrap when
# missing, starts dockerd in the background when no daemon answers, waits for it, then builds
# the python-3.11 runtime image. Every step is skipped when already done. Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
# The machine image may ship only the docker client: the daemon is what matters.
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "docker-setup: installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log="${DOCKERD_LOG:-/tmp/hivemind-dockerd.log}"
  echo "docker-setup: starting dockerd (log: $log)"
  # setsid: the daemon outlives this script and is not tied to its terminal.
  setsid dockerd >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "docker-setup: dockerd did not come up within 60 s; last lines of $log:" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
fi
echo "docker-setup: daemon $(docker info --format '{{.ServerVersion}}') is up"

bash packaging/runtime/build-image.sh "${RUNTIME_IMAGE:-hivemind/python:3.11}"
