#!/usr/bin/env bash
# Fuzzes the merchant API from its own OpenAPI document with schemathesis, every check on (no
# 5xx, no undocumented status, responses match their schemas, schema-valid requests accepted and
# schema-violating ones refused), against a sandbox server started here on a free port with a
# throw-away data dir. Bounded: PAYBRIDGE_FUZZ_EXAMPLES cases per operation and phase (40), from
# a fixed seed (PAYBRIDGE_FUZZ_SEED) so a failure repeats; set another seed to explore.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS_DIR="${PAYBRIDGE_TOOLS_DIR:-$HOME/.cache/paybridge-tools}"
SCHEMATHESIS="$TOOLS_DIR/py/bin/schemathesis"
BIN="${PAYBRIDGE_BIN:-target/debug/paybridge}"
EXAMPLES="${PAYBRIDGE_FUZZ_EXAMPLES:-40}"
SEED="${PAYBRIDGE_FUZZ_SEED:-20261206}"
[ -x "$SCHEMATHESIS" ] || { echo "schemathesis missing: run .ci/tools.sh test" >&2; exit 1; }

DIR="$(mktemp -d /tmp/paybridge-fuzz.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# The fuzzer sends thousands of requests without a valid key on purpose, from one address:
# past the usual share of failed authentications they would be answered 429, not 401.
PAYBRIDGE_DATA_DIR="$DIR/data" PAYBRIDGE_LISTEN="127.0.0.1:$PORT" PAYBRIDGE_LOG_FORMAT=json \
  PAYBRIDGE_AUTH_FAILURES_PER_MINUTE=1000000 \
  "$BIN" >"$DIR/server.log" 2>&1 &
SERVER=$!
cleanup() {
  status=$?
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  # On a failure, what the server logged at ERROR explains a 500.
  if [ "$status" != 0 ]; then grep '"level":"ERROR"' "$DIR/server.log" | tail -n 20 >&2 || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

# Wait (at most 30 s) for the server to answer and its sandbox key to exist.
for _ in $(seq 1 300); do
  if [ -s "$DIR/data/sandbox_api_key" ] && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
  sleep 0.1
done
KEY="$(cat "$DIR/data/sandbox_api_key")"
echo "==> schemathesis against the merchant API (seed $SEED, $EXAMPLES examples)" >&2
# The rules JSON Schema cannot state (an accent colour's contrast, line items' sum) are taught
# to the generator of valid requests in .ci/fuzz_hooks.py.
PYTHONPATH=.ci SCHEMATHESIS_HOOKS=fuzz_hooks "$SCHEMATHESIS" run "http://127.0.0.1:$PORT/openapi.json" \
  -H "Authorization: Bearer $KEY" --checks all --max-examples "$EXAMPLES" --seed "$SEED" --no-color
