#!/usr/bin/env bash
# Benchmarks (figures, never pass/fail): native reader throughput (criterion) and the browser
# benchmark (headless Chromium on the release build: wasm read vs JSON.parse, bytes per record,
# first draw and redraw at fleet scale, fleet fetch throughput). Results: target/criterion/,
# target/bench/browser.json, screenshots in target/e2e/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
cargo bench -p usagelens-core --bench readers
# The benchmark's hooks (src/bench.rs) are built only with the `bench` feature.
trunk build --release --offline --features bench
node tests/bench/browser.mjs
