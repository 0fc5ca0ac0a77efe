#!/usr/bin/env bash
# Renders deploy/nginx/usagelens.conf.template (and carriers.conf.template, which both of its servers
# include) and runs nginx in the foreground (Ctrl-C stops it).
# Every setting is an environment variable; the defaults serve ./dist and proxy to the carriers'
# documented API hosts (point an *_UPSTREAM at any other base, e.g. a test double).
#
#   APP_PORT=8080 PROXY_PORT=8081 DIST_DIR=dist scripts/nginx.sh
#   CONTROL_CENTER_UPSTREAM=https://restapi3.jasper.com scripts/nginx.sh
#
# Both servers also proxy the carrier prefixes (/<carrier>/...): the app's own origin for its pages,
# the proxy port for pages served elsewhere (ALLOWED_ORIGINS).
# TLS_CERT (PEM path): serve both over HTTPS + HTTP/2 (one connection per fleet fetch).
# TLS_KEY (PEM path): its private key; set both or neither (neither: plain HTTP/1.1).
# RUN_DIR (default target/nginx) holds the rendered config, pid, logs and temp files.
# PROXY_CA_FILE (PEM path, default the system bundle /etc/ssl/certs/ca-certificates.crt): the CAs
#   carriers' TLS certificates are verified against (a private CA: a file with it, and the system's
#   CAs too if other carriers need them).
# PROXY_ORIGINS: the origins pages reach this proxy at besides their own (the page's
#   Content-Security-Policy connect-src); default the proxy port on LISTEN_HOST (and localhost).
# FRAME_ANCESTORS: who may show the app in a frame (CSP frame-ancestors), default 'none'; e.g.
#   "https://console.example.com".
# PROXY_FOR_SANDBOX=1: preflights also allow the carrier sandbox's X-Sandbox-Fault header (tests).
# With --render-only the config is written and its path printed, nginx is not started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LISTEN_HOST=${LISTEN_HOST:-127.0.0.1}
APP_PORT=${APP_PORT:-8080}
PROXY_PORT=${PROXY_PORT:-8081}
DIST_DIR=$(cd "${DIST_DIR:-$root/dist}" 2>/dev/null && pwd || echo "${DIST_DIR:-$root/dist}")
RUN_DIR=${RUN_DIR:-$root/target/nginx}
VODAFONE_UPSTREAM=${VODAFONE_UPSTREAM:-https://api-sandbox.vf-dmp.engineering.vodafone.com}
TELECOMX_UPSTREAM=${TELECOMX_UPSTREAM:-https://api.telecomx.dk}
THINGSPACE_UPSTREAM=${THINGSPACE_UPSTREAM:-https://thingspace.verizon.com}
CONTROL_CENTER_UPSTREAM=${CONTROL_CENTER_UPSTREAM:-https://restapi1.jasper.com}
MIME_TYPES=${MIME_TYPES:-/etc/nginx/mime.types}
# brotli_static (Debian's libnginx-mod-http-brotli-static): sends FILE.br to browsers that take
# brotli; without the module only the .gz copies go out.
BROTLI_MODULE=${BROTLI_MODULE:-/usr/lib/nginx/modules/ngx_http_brotli_static_module.so}
LOAD_MODULES=""
BROTLI_STATIC=""
if [ -e "$BROTLI_MODULE" ]; then
  LOAD_MODULES="load_module \"$BROTLI_MODULE\";"
  BROTLI_STATIC="brotli_static on;"
fi
LISTEN_OPTIONS=""
TLS=""
scheme=http
if [ -n "${TLS_CERT:-}" ] || [ -n "${TLS_KEY:-}" ]; then
  if [ -z "${TLS_CERT:-}" ] || [ -z "${TLS_KEY:-}" ]; then
    echo "scripts/nginx.sh: set both TLS_CERT and TLS_KEY, or neither" >&2
    exit 2
  fi
  # Absolute, because nginx reads relative paths from RUN_DIR, not from here.
  TLS_CERT=$(realpath -- "$TLS_CERT")
  TLS_KEY=$(realpath -- "$TLS_KEY")
  # nginx 1.22 (Debian 12) takes http2 on the listen line ("http2 on;" needs 1.25.1).
  LISTEN_OPTIONS=" ssl http2"
  TLS="ssl_certificate \"$TLS_CERT\"; ssl_certificate_key \"$TLS_KEY\";"
  scheme=https
fi
PROXY_CA_FILE=${PROXY_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -r "$PROXY_CA_FILE" ]; then
  echo "scripts/nginx.sh: PROXY_CA_FILE '$PROXY_CA_FILE' is not a readable file: carriers' certificates could not be verified" >&2
  exit 2
fi
PROXY_CA_FILE=$(realpath -- "$PROXY_CA_FILE")
SANDBOX_ALLOW_HEADERS=""
[ "${PROXY_FOR_SANDBOX:-}" = 1 ] && SANDBOX_ALLOW_HEADERS=", X-Sandbox-Fault"
if [ -z "${PROXY_ORIGINS:-}" ]; then
  PROXY_ORIGINS="$scheme://$LISTEN_HOST:$PROXY_PORT"
  [ "$LISTEN_HOST" = 127.0.0.1 ] && PROXY_ORIGINS+=" $scheme://localhost:$PROXY_PORT"
fi
FRAME_ANCESTORS=${FRAME_ANCESTORS:-"'none'"}
ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-"$scheme://$LISTEN_HOST:$APP_PORT $scheme://localhost:$APP_PORT http://127.0.0.1:8080 http://localhost:8080"}

# upstream_parts PREFIX URL: splits a carrier's base URL for its keepalive pool: PREFIX_SERVER
# (host:port, the pool's one server), PREFIX_HOST (the Host header, as written in the URL),
# PREFIX_SNI (the TLS server name) and PREFIX_PASS (proxy_pass to the pool, with the URL's path).
upstream_parts() {
  local prefix=$1 url=$2
  local re='^(https?)://(\[[^]]+\]|[^]/:[]+)(:([0-9]+))?(/.*)?$'
  if ! [[ $url =~ $re ]]; then
    echo "scripts/nginx.sh: ${prefix}_UPSTREAM must be http(s)://host[:port][/path], got '$url'" >&2
    exit 2
  fi
  local scheme=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} port=${BASH_REMATCH[4]} path=${BASH_REMATCH[5]}
  local default_port=80
  [ "$scheme" = https ] && default_port=443
  printf -v "${prefix}_SERVER" '%s' "$host:${port:-$default_port}"
  printf -v "${prefix}_HOST" '%s' "$host${port:+:$port}"
  printf -v "${prefix}_SNI" '%s' "${host//[][]/}"
  local pool
  pool=usagelens_$(tr '[:upper:]' '[:lower:]' <<<"$prefix")
  printf -v "${prefix}_PASS" '%s' "$scheme://$pool${path%/}/"
}
# The carriers, by the prefix of their settings and placeholders.
carriers="VODAFONE TELECOMX THINGSPACE CONTROL_CENTER"
for carrier in $carriers; do
  upstream="${carrier}_UPSTREAM"
  upstream_parts "$carrier" "${!upstream}"
done

# inline_hashes TAG FILE: the CSP source ('sha256-…') of each inline TAG element (script without
# src, style) in FILE, as the browser hashes it: the bytes between the tags.
inline_hashes() {
  perl -0777 -MDigest::SHA=sha256_base64 -ne '
    while (/<\Q'"$1"'\E\b([^>]*)>(.*?)<\/\Q'"$1"'\E\s*>/gis) {
      next if $1 =~ /\bsrc\s*=/i;
      my $h = sha256_base64($2);
      $h .= "=" x ((4 - length($h) % 4) % 4);
      print " \x27sha256-$h\x27";
    }' "$2"
}
# The Content-Security-Policy of every answer: scripts and styles only from the app's origin and
# the inline ones of index.html (Trunk's init script), wasm compiled, fetches to the app's origin
# and the proxy origins, images from data:/blob: for the chart's PNG export.
if [ ! -r "$DIST_DIR/index.html" ]; then
  echo "scripts/nginx.sh: $DIST_DIR/index.html not found: build first (trunk build --release); its inline scripts' hashes go into the Content-Security-Policy" >&2
  exit 2
fi
CONTENT_SECURITY_POLICY="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'$(inline_hashes script "$DIST_DIR/index.html"); style-src 'self'$(inline_hashes style "$DIST_DIR/index.html"); img-src 'self' data: blob:; connect-src 'self' $PROXY_ORIGINS; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors $FRAME_ANCESTORS"

mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
origins=""
seen=" "
for origin in $ALLOWED_ORIGINS; do
  case "$seen" in *" $origin "*) continue ;; esac
  seen+="$origin "
  origins+="\"$origin\" \"$origin\";"$'\n'"        "
done
conf="$RUN_DIR/nginx.conf"
# render TEMPLATE OUTPUT: replaces every @NAME@ with that variable's value.
render() {
  local text
  text=$(<"$1")
  local name carrier part
  for name in RUN_DIR MIME_TYPES LISTEN_HOST APP_PORT PROXY_PORT DIST_DIR LISTEN_OPTIONS TLS \
    LOAD_MODULES BROTLI_STATIC PROXY_CA_FILE SANDBOX_ALLOW_HEADERS CONTENT_SECURITY_POLICY; do
    text=${text//@$name@/${!name}}
  done
  for carrier in $carriers; do
    for part in SERVER HOST SNI PASS; do
      name=${carrier}_$part
      text=${text//@$name@/${!name}}
    done
  done
  text=${text//@ALLOWED_ORIGINS@/$origins}
  printf '%s\n' "$text" >"$2"
}
for part in carriers cors cors_headers security_headers; do
  render "$root/deploy/nginx/$part.conf.template" "$RUN_DIR/$part.conf"
done
render "$root/deploy/nginx/usagelens.conf.template" "$conf"
if [ "${1:-}" = "--render-only" ]; then
  echo "$conf"
  exit 0
fi
# The app's files go out as the brotli and zopfli copies written here; a read-only dist is still
# served, gzipped on the fly at nginx's level.
if [ -w "$DIST_DIR" ]; then
  "$root/scripts/precompress.sh" "$DIST_DIR"
else
  echo "scripts/nginx.sh: $DIST_DIR is read-only: not precompressed (run scripts/precompress.sh where it is built)" >&2
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -t -q -p "$RUN_DIR" -c "$conf"
echo "usagelens: app on $scheme://$LISTEN_HOST:$APP_PORT/ (carriers at /<carrier>/ on the same origin), carrier proxy for other origins on $scheme://$LISTEN_HOST:$PROXY_PORT/<carrier>/" >&2
exec "$nginx_bin" -p "$RUN_DIR" -c "$conf"
