#!/usr/bin/env bash
# Redis for the test suite on a fresh Debian machine: installs redis-server when missing
# (tests also start servers of their own from the binary: one they kill and restart), starts
# one on loopback only, without persistence, unless one answers there already, and prints
# its URL on stdout (everything else goes to stderr). Needs root, as .ci/postgres-setup.sh
# does. Called by .ci/run; locally, run it once and the Redis tests stop skipping.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PORT="${HIVEMIND_REDIS_PORT:-6379}"
DIR="${HIVEMIND_REDIS_DIR:-/var/lib/hivemind-ci-redis}"

say() { echo "redis-setup: $*" >&2; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  say "installing redis-server"
  apt-get update -qq >&2
  apt-get install -y -qq redis-server redis-tools >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
  say "starting redis-server on 127.0.0.1:$PORT"
  mkdir -p "$DIR"
  # Loopback only, nothing saved: test data is thrown away.
  redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --dir "$DIR" \
    --daemonize yes --logfile "$DIR/redis.log" >&2
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
fi
redis-cli -h 127.0.0.1 -p "$PORT" ping | grep -q PONG || { say "Redis does not answer"; exit 1; }
say "Redis $(redis-server --version | awk '{print $3}') is up on 127.0.0.1:$PORT"
echo "redis://127.0.0.1:$PORT/0"
