#!/usr/bin/env bash
# Builds the embeddable viewer into dist-embed/ with stable file names:
#   usagelens.js, usagelens_bg.wasm   the ES module and its wasm (mountUsageViewer, parseUsage);
#                                     the styles travel inside, into each viewer's shadow root
#   snippets/                         a JS module usagelens.js imports (src/records.js)
#   usagelens.d.ts                    TypeScript declarations of the embedding API
#   index.html, demo/                 the example host page (two viewers side by side)
#   portal.html, portal.js, portal.css an example operator portal (portal mode, one customer's SIMs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
out="$root/dist-embed"
rm -rf "$out"
mkdir -p "$out"
cargo build --release --target wasm32-unknown-unknown -p usagelens --lib
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name usagelens \
  target/wasm32-unknown-unknown/release/usagelens.wasm
# As Trunk does for the app: size-optimize with binaryen 132 (Debian's 108 breaks the module).
wasm-opt -Oz --output="$out/usagelens_bg.opt.wasm" "$out/usagelens_bg.wasm"
mv "$out/usagelens_bg.opt.wasm" "$out/usagelens_bg.wasm"
cp embed/usagelens.d.ts "$out/usagelens.d.ts"
cp embed/index.html "$out/index.html"
cp embed/portal.html embed/portal.js embed/portal.css "$out/"
cp -r public/demo "$out/demo"
echo "dist-embed/: $(ls "$out" | tr '\n' ' ')" >&2
