#!/usr/bin/env bash
# Installs what usagelens needs to build, serve and test, skipping whatever is already there.
# Used by scripts/run.sh, scripts/test.sh and CI. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
say() { echo "setup: $*" >&2; }

# Chromium (browser tests), ChromeDriver (wasm-bindgen-test), nginx (the CORS proxy and the app's
# files).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
# The app's files are precompressed once: zopfli (gzip, 4.6 % smaller than gzip -9) and brotli,
# which nginx sends with its brotli_static module.
command -v zopfli >/dev/null || missing+=(zopfli)
command -v brotli >/dev/null || missing+=(brotli)
[ -e /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || missing+=(libnginx-mod-http-brotli-static)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Trunk 0.22 needs a newer rustc than this machine's; 0.21.14 is the last that builds here.
if ! trunk --version 2>/dev/null | grep -q '0\.21\.14'; then
  say "cargo install trunk 0.21.14 (about 12 minutes on 2 cores)"
  cargo install --locked trunk@0.21.14
fi

# Fuzzing (scripts/fuzz.sh): cargo-fuzz builds its targets with a nightly toolchain.
if ! rustup toolchain list | grep -q '^nightly'; then
  say "rustup toolchain install nightly"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version 2>/dev/null | grep -q '0\.13\.2'; then
  say "cargo install cargo-fuzz 0.13.2 (about 2 minutes on 2 cores)"
  cargo install cargo-fuzz --version 0.13.2
fi

# leptosfmt formats the view! markup (checked by scripts/test.sh).
if ! leptosfmt --version 2>/dev/null | grep -q '0\.1\.33'; then
  say "cargo install leptosfmt 0.1.33 (about 3 minutes on 2 cores)"
  cargo install --locked leptosfmt --version 0.1.33
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen of Cargo.lock; `--locked` fails for it.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  say "cargo install wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# npm: binaryen 132 (Debian's wasm-opt 108 breaks this rustc's modules), playwright-core, axe-core.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
