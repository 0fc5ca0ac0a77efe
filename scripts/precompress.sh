#!/usr/bin/env bash
# Writes FILE.gz (gzip -9) beside each static file of a built app directory (default dist/),
# for nginx's gzip_static: visitors get the smallest gzip once, not level 1 on every request
# (nginx's default gzip_comp_level), which made the wasm 619 KB on the wire instead of 546 KB.
# A .gz newer than its file is kept, so running it again costs nothing.
#
#   scripts/precompress.sh [DIR]
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/dist}
if [ ! -d "$dir" ]; then
  echo "scripts/precompress.sh: $dir is not a directory" >&2
  exit 2
fi
find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \
  -o -name '*.json' -o -name '*.csv' -o -name '*.svg' \) -print0 |
  while IFS= read -r -d '' file; do
    if [ ! "$file.gz" -nt "$file" ]; then
      # -n: no name or time in the header, so the same build gives the same bytes.
      gzip -9 -n -c -- "$file" >"$file.gz.tmp" && mv -f -- "$file.gz.tmp" "$file.gz"
    fi
  done
