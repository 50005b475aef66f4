#!/usr/bin/env bash
# PostgreSQL for the test suite on a fresh Debian machine: installs the server when missing,
# makes sure the newest cluster exists and runs (listening on loopback only), creates the test
# role (it may create databases: each test gets a throwaway one) and its database, then prints
# the SQLAlchemy URL on stdout (everything else goes to stderr). Every step is skipped when
# already done. Needs root, as .ci/docker-setup.sh does. Called by .ci/run and, under CI=true,
# by `make test`; locally, run it once and `pytest --db=postgres` stops skipping.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROLE="${HIVEMIND_PG_ROLE:-hivemind}"
PASSWORD="${HIVEMIND_PG_PASSWORD:-hivemind}"
DATABASE="${HIVEMIND_PG_DATABASE:-hivemind_test}"
CLUSTER="${HIVEMIND_PG_CLUSTER:-main}"

say() { echo "postgres-setup: $*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v pg_ctlcluster \
  >/dev/null 2>&1; then
  say "installing postgresql"
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"

if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$version/$CLUSTER"; then
  say "creating cluster $version/$CLUSTER"
  pg_createcluster "$version" "$CLUSTER" >&2
fi
# Loopback only (127.0.0.1 and ::1, Debian's default): never reachable from another machine.
if [ "$(pg_conftool -s "$version" "$CLUSTER" show listen_addresses 2>/dev/null)" != "localhost" ]
then
  pg_conftool "$version" "$CLUSTER" set listen_addresses localhost
  if pg_lsclusters -h | awk -v c="$version/$CLUSTER" '$1 "/" $2 == c {print $4}' | grep -q online
  then
    pg_ctlcluster "$version" "$CLUSTER" restart >&2
  fi
fi
if ! pg_lsclusters -h | awk -v c="$version/$CLUSTER" '$1 "/" $2 == c {print $4}' | grep -q online
then
  say "starting cluster $version/$CLUSTER"
  pg_ctlcluster "$version" "$CLUSTER" start >&2
fi
port="$(pg_lsclusters -h | awk -v c="$version/$CLUSTER" '$1 "/" $2 == c {print $3}')"
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$port" >&2 || { say "PostgreSQL does not answer on port $port"; exit 1; }

as_postgres() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ -z "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
  say "creating role $ROLE"
  as_postgres -c "CREATE ROLE \"$ROLE\" LOGIN CREATEDB PASSWORD '$PASSWORD'"
  # Test data is thrown away: commits need not wait for the disk (for this role only; a
  # killed HiveMind server still loses nothing, since PostgreSQL itself keeps running).
  as_postgres -c "ALTER ROLE \"$ROLE\" SET synchronous_commit = off"
fi
if [ -z "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
  say "creating database $DATABASE"
  as_postgres -c "CREATE DATABASE \"$DATABASE\" OWNER \"$ROLE\""
fi
say "PostgreSQL $version is up on 127.0.0.1:$port"
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
