# paybridge — `make run` and `make test` install whatever is missing (see .ci/tools.sh) and then
# build and run / test everything. A second run skips installed tools and starts in seconds.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
TOOLS_DIR ?= $(HOME)/.cache/paybridge-tools
export PATH := $(HOME)/.cargo/bin:$(TOOLS_DIR)/node_modules/.bin:$(PATH)
# The Python with Stripe's library (.ci/tools.sh test), for the webhook-signature test.
export PAYBRIDGE_TEST_PYTHON := $(TOOLS_DIR)/py/bin/python
# Trunk must not reach the internet: every tool it uses is installed by .ci/tools.sh.
export TRUNK_SKIP_VERSION_CHECK := true
export TRUNK_OFFLINE := true

# The release tarball `make dist` writes (the workspace's version, this machine's architecture).
VERSION := $(shell awk -F'"' '/^version = /{ print $$2; exit }' Cargo.toml)
DIST_TARBALL := target/dist/paybridge-$(VERSION)-$(shell uname -m)-linux.tar.gz

.PHONY: run test test-wasm test-deploy dist screenshots page server fmt lint bench clean tools test-tools

## run: install tools, build the page and the server, start in sandbox mode (SQLite in ./data)
run: tools page
	cargo build -p paybridge-server --bin paybridge
	./target/debug/paybridge

## test: install tools, build everything, run unit, integration and browser tests
test: test-tools page
	.ci/self-contained.py
	cargo build -p paybridge-server --bin paybridge
	.ci/fuzz-api.sh
	.ci/with-postgres.sh cargo nextest run --workspace --no-fail-fast
	$(MAKE) --no-print-directory test-wasm
	$(MAKE) --no-print-directory test-deploy

## test-wasm: the page's wasm-bindgen tests (frontend/src/in_browser/) in headless Chromium
test-wasm: test-tools
	CHROMEDRIVER="$$(command -v chromedriver)" \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test -p paybridge-frontend --target wasm32-unknown-unknown

## test-deploy: `make dist`, then two instances of the unpacked release on one Postgres behind Caddy
## (TLS from Caddy's internal CA, deploy/Caddyfile) and a checkout paid through https in Chromium
test-deploy: test-tools dist
	PAYBRIDGE_DEPLOY_TARBALL="$(CURDIR)/$(DIST_TARBALL)" .ci/with-postgres.sh \
	cargo nextest run --workspace --run-ignored only -E 'test(=deploy::a_release_behind_caddy_takes_a_payment_through_https)'

## dist: release binary + page + deploy/ + README as target/dist/paybridge-<version>-<arch>-linux.tar.gz
dist: page
	cargo build --release -p paybridge-server --bin paybridge
	rm -rf target/dist/stage && mkdir -p target/dist/stage/paybridge-$(VERSION)
	cp target/release/paybridge README.md target/dist/stage/paybridge-$(VERSION)/
	cp -R dist deploy target/dist/stage/paybridge-$(VERSION)/
	tar -C target/dist/stage --sort=name --owner=0 --group=0 --numeric-owner \
	  -czf $(DIST_TARBALL) paybridge-$(VERSION)
	rm -rf target/dist/stage
	@echo "==> $(DIST_TARBALL) ($$(du -h $(DIST_TARBALL) | cut -f1))"

## screenshots: the page's main states at 375 and 1280 px into docs/screenshots/ (shown in the README)
screenshots: page
	@.ci/tools.sh screenshots
	cargo nextest run -p paybridge-tests --run-ignored only -E 'test(=screenshots::screenshots_of_the_main_states)'

## page: build the checkout page (Leptos → wasm) into dist/
page: tools
	@echo "==> building the checkout page (first time ~2 min)" >&2
	trunk build --release

## fmt: format all Rust code
fmt:
	cargo fmt --all

## lint: rustfmt check and clippy (server, tests, and the frontend for wasm), warnings are errors
lint: tools
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p paybridge-frontend --target wasm32-unknown-unknown --all-targets -- -D warnings

## bench: criterion benchmarks (crypto), create-session load with wrk, payment-flow load, webhook delivery (release builds),
## live mode against a sandbox process as WeChat Pay (SQLite, Postgres, two instances on Postgres),
## the page's weight and time to interactive under throttling (headless Chromium)
bench: test-tools page
	cargo bench -p paybridge-server
	.ci/bench-sessions.sh
	.ci/with-postgres.sh cargo bench -p paybridge-tests --bench payflows
	.ci/with-postgres.sh cargo bench -p paybridge-tests --bench webhooks
	cargo build --release -p paybridge-server --bin paybridge
	.ci/with-postgres.sh cargo bench -p paybridge-tests --bench live
	cargo bench -p paybridge-tests --bench page

tools:
	@.ci/tools.sh build

test-tools:
	@.ci/tools.sh test

clean:
	cargo clean
	rm -rf dist
