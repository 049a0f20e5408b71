#!/usr/bin/env bash
# Create-session throughput and latency: wrk against a release build on SQLite (make bench).
# Prints requests/s, latency percentiles and the server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk (once)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
# PAYBRIDGE_BENCH_BIN=path measures another build (e.g. the one before a change) in the same run.
BIN="${PAYBRIDGE_BENCH_BIN:-./target/release/paybridge}"
if [ -z "${PAYBRIDGE_BENCH_BIN:-}" ]; then cargo build --release -p paybridge-server --bin paybridge; fi

DIR="$(mktemp -d /tmp/paybridge-bench.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
RUST_LOG=warn "$BIN" --listen "127.0.0.1:$PORT" --data-dir "$DIR" --log-format json >"$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
KEY="$(cat "$DIR/sandbox_api_key")"

cat >"$DIR/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $KEY"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount":1234,"currency":"cny","description":"Two coffees","success_url":"https://shop.example.com/thanks","cancel_url":"https://shop.example.com/cart","metadata":{"cart":"42"}}'
done = function(summary, latency, requests)
  io.write(string.format("sessions/s: %.0f  errors: %d non-2xx, %d socket\n",
    summary.requests / (summary.duration / 1e6), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
LUA
echo "==> create-session load: 2 threads, 64 connections, 15 s" >&2
wrk -t2 -c64 -d15s -s "$DIR/create.lua" "http://127.0.0.1:$PORT/v1/checkout_sessions" | tail -n 6
echo "peak RSS: $(awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$PID/status)"
