#!/usr/bin/env bash
# Runs usagelens on this machine: the carrier sandbox on 127.0.0.1:8787 and `trunk serve` on
# http://127.0.0.1:8080 (PORT to change it), whose proxies send /vodafone/, /telecomx/,
# /thingspace/ and /control-center/ to the sandbox. "Load demo data" reads the sample responses
# in public/demo: no network at all. Ctrl-C stops both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
cargo build -q -p carrier-sandbox
"$root/target/debug/carrier-sandbox" --port 8787 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null' EXIT
trunk serve --address 127.0.0.1 --port "${PORT:-8080}" --offline
