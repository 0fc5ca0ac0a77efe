#!/usr/bin/env bash
# Runs usagelens on this machine with `trunk serve` on http://127.0.0.1:8080 (PORT to change it).
# "Load demo data" reads the sample responses in public/demo: no network at all. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
trunk serve --address 127.0.0.1 --port "${PORT:-8080}" --offline
