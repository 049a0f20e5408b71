#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL cluster on a private port, then removes it.
# The command sees PAYBRIDGE_TEST_POSTGRES_URL (a superuser URL; tests create a database each).
# Usage: .ci/with-postgres.sh cargo nextest run …
set -euo pipefail

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "PostgreSQL server binaries not found (.ci/tools.sh test installs them)" >&2
  exit 1
fi

DIR="$(mktemp -d /tmp/paybridge-pg.XXXXXX)"
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi

# A free port: ask the kernel, then hand it to postgres.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$DIR/data" -A trust -U paybridge --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
echo "==> PostgreSQL for tests on 127.0.0.1:$PORT" >&2

export PAYBRIDGE_TEST_POSTGRES_URL="postgres://paybridge@127.0.0.1:$PORT/postgres"
"$@"
