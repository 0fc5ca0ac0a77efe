#!/usr/bin/env bash
# Runs every check and test layer; exits non-zero on the first failing layer.
#   1. cargo fmt --check, clippy (native and wasm32)
#   2. native cargo test (core readers, model, aggregation, export; app state)
#   3. fuzzing: each cargo-fuzz target for a short time (scripts/fuzz.sh)
#   4. wasm-bindgen-test in headless Chromium (parseUsage and components through wasm)
#   5. end-to-end: release build served by nginx, driven by playwright-core in Chromium
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
start=$(date +%s)
layer() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

layer "format and lints"
cargo fmt --all -- --check
leptosfmt --check src tests
rustfmt --check --edition 2021 fuzz/fuzz_targets/*.rs
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p usagelens --target wasm32-unknown-unknown --all-targets -- -D warnings
# The benchmark's code (src/bench.rs, the core's bench module and aggregate benchmark) is built
# only with the `bench` feature: linted here so it does not rot.
cargo clippy --workspace --all-targets --features usagelens/bench,usagelens-core/bench -- -D warnings

layer "native tests"
cargo test --workspace

layer "fuzzing (each target 20 s)"
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

layer "browser tests (wasm-bindgen-test, headless Chromium)"
cargo test -p usagelens --target wasm32-unknown-unknown

layer "end-to-end (release build, nginx, playwright-core)"
trunk build --release --offline
./scripts/build-embed.sh
node --test tests/e2e/

layer "all layers passed"
