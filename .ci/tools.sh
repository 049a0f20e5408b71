#!/usr/bin/env bash
# Installs what paybridge's build and tests need, skipping anything already at the right version.
# Usage: .ci/tools.sh build   — wasm target, trunk, wasm-bindgen CLI, wasm-opt (for `make run`)
#        .ci/tools.sh test    — the above, plus Chromium + chromedriver, PostgreSQL and Caddy (for `make test`)
#        .ci/tools.sh screenshots — the above, plus a Chinese font (for `make screenshots`)
# The Makefile puts the tools dir on PATH itself.
set -euo pipefail

cd "$(dirname "$0")/.."
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
ESBUILD_VERSION=0.25.12
# Stripe's Python library: a test checks that it accepts paybridge's webhook signatures.
STRIPE_PY_VERSION=16.1.0
# The API fuzzer make test runs (.ci/fuzz-api.sh).
SCHEMATHESIS_VERSION=4.32.5
TOOLS_DIR="${PAYBRIDGE_TOOLS_DIR:-$HOME/.cache/paybridge-tools}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$TOOLS_DIR/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The wasm-bindgen CLI must equal the wasm-bindgen crate locked in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; exit 1; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    say "updating the Debian package lists (once, ~20 s)"
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target (once, ~30 s)"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    say "building trunk $TRUNK_VERSION (once, ~6-10 min)"
    cargo install --locked "trunk@$TRUNK_VERSION"
  fi
  local wbg
  wbg="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
    say "building wasm-bindgen-cli $wbg to match Cargo.lock (once, ~5 min)"
    cargo install --force "wasm-bindgen-cli@$wbg"
  fi
  # One npm install for both npm tools: npm prunes packages a later install does not name.
  if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}" \
    || [ "$(esbuild --version 2>/dev/null)" != "$ESBUILD_VERSION" ]; then
    say "installing wasm-opt (binaryen $BINARYEN_VERSION) and esbuild $ESBUILD_VERSION from npm (once, ~10 s)"
    mkdir -p "$TOOLS_DIR"
    npm install --prefix "$TOOLS_DIR" --no-save --no-audit --no-fund --loglevel=error \
      "binaryen@$BINARYEN_VERSION" "esbuild@$ESBUILD_VERSION" >/dev/null
  fi
}

test_tools() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing Chromium and chromedriver (once, ~1-2 min)"
    apt_install chromium chromium-driver
  fi
  if [ "$("$TOOLS_DIR/py/bin/python" -c 'import stripe; print(stripe.VERSION)' 2>/dev/null)" != "$STRIPE_PY_VERSION" ]; then
    say "installing Stripe's Python library $STRIPE_PY_VERSION from PyPI (once, ~10 s)"
    mkdir -p "$TOOLS_DIR"
    python3 -m venv "$TOOLS_DIR/py"
    "$TOOLS_DIR/py/bin/pip" install --quiet --disable-pip-version-check "stripe==$STRIPE_PY_VERSION"
  fi
  if [ "$("$TOOLS_DIR/py/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    say "installing schemathesis $SCHEMATHESIS_VERSION from PyPI (once, ~30 s)"
    mkdir -p "$TOOLS_DIR"
    [ -x "$TOOLS_DIR/py/bin/pip" ] || python3 -m venv "$TOOLS_DIR/py"
    "$TOOLS_DIR/py/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing PostgreSQL for the tests (once, ~1 min)"
    apt_install postgresql
  fi
  if ! command -v caddy >/dev/null; then
    say "installing Caddy for the deployment test (once, ~10 s)"
    apt_install caddy
    # The package enables a system-wide Caddy on ports 80/443/2019; the test runs its own.
    if [ -d /run/systemd/system ]; then as_root systemctl disable --now caddy.service >/dev/null 2>&1 || true; fi
  fi
}

screenshot_tools() {
  # Without a CJK font Chromium draws the page's Chinese as empty boxes.
  if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    say "installing a Chinese font for the screenshots (once, ~5 MB)"
    apt_install fonts-wqy-microhei
  fi
}

case "${1:-build}" in
  build) build_tools ;;
  test) build_tools; test_tools ;;
  screenshots) build_tools; test_tools; screenshot_tools ;;
  *) echo "usage: $0 build|test|screenshots" >&2; exit 2 ;;
esac
