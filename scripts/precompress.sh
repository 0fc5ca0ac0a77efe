#!/usr/bin/env bash
# Writes FILE.gz and FILE.br beside each static file of a built app directory (default dist/),
# for nginx's gzip_static and brotli_static: visitors get the smallest copy, compressed once, not
# level 1 on every request (nginx's default gzip_comp_level made the wasm 619 KB on the wire).
# - FILE.gz: zopfli, whose gzip is 4.6 % smaller than gzip -9 (the wasm: 523 KB against 548 KB)
#   and takes about 5 s for it; gzip -9 where zopfli is not installed.
# - FILE.br: brotli -q 11 (the wasm: 411 KB), for browsers that accept it (over HTTPS); none
#   where brotli is not installed.
# A copy newer than its file is kept, so running it again costs nothing.
#
#   scripts/precompress.sh [DIR]
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/dist}
if [ ! -d "$dir" ]; then
  echo "scripts/precompress.sh: $dir is not a directory" >&2
  exit 2
fi
has_zopfli=false
command -v zopfli >/dev/null && has_zopfli=true
has_brotli=false
command -v brotli >/dev/null && has_brotli=true
$has_zopfli || echo "scripts/precompress.sh: zopfli not installed: gzip -9 instead (scripts/setup.sh installs it)" >&2
find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \
  -o -name '*.json' -o -name '*.csv' -o -name '*.svg' \) -print0 |
  while IFS= read -r -d '' file; do
    if [ ! "$file.gz" -nt "$file" ]; then
      # Neither writes a name or a time into the header, so the same build gives the same bytes.
      if $has_zopfli; then
        zopfli -c -- "$file" >"$file.gz.tmp"
      else
        gzip -9 -n -c -- "$file" >"$file.gz.tmp"
      fi
      mv -f -- "$file.gz.tmp" "$file.gz"
    fi
    if $has_brotli && [ ! "$file.br" -nt "$file" ]; then
      brotli -q 11 -c -- "$file" >"$file.br.tmp" && mv -f -- "$file.br.tmp" "$file.br"
    fi
  done
