#!/usr/bin/env bash
# Installs what pqflow needs to build and test, and nothing that is already there.
# Debian packages by name through apt-get; DuckDB 1.4.4 and the test-only JavaScript
# tools from the npm registry, pinned by version and checked against sha256 sums.
# Idempotent: a second run with everything present does no network access.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DUCKDB_DIR="$ROOT/third_party/duckdb"
NODE_DIR="$ROOT/third_party/node"

DEBIAN_PACKAGES=(
  build-essential cmake pkg-config ninja-build
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  libcpp-httplib-dev libsimdjson-dev libjemalloc-dev wrk
  postgresql-15 time
  awscli  # tests: another S3 client lists and downloads what pqflow wrote; bench: the upload peer
)

# DuckDB's official libduckdb.so ships inside the node bindings package; the header in
# the `duckdb` package of the same release.
DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
DUCKDB_HDR_PKG="duckdb@1.4.4"
DUCKDB_LIB_SHA256="1ef33048e12235115ac0d277a0aaccbb560e33248144f488b5ac005cd9ba81b5"
DUCKDB_HDR_SHA256="cbe6a827284375c5a646b8f27dbd3a00808ce8738b5bbb49c190cb1e08540281"

log() { printf 'bootstrap: %s\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # Node.js may come from Debian (nodejs + npm) or elsewhere with npm bundled: ask for
  # the commands, not the package names.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

sha_ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status -; }

fetch_duckdb() {
  if sha_ok "$DUCKDB_DIR/lib/libduckdb.so" "$DUCKDB_LIB_SHA256" &&
     sha_ok "$DUCKDB_DIR/include/duckdb.h" "$DUCKDB_HDR_SHA256"; then
    return 0
  fi
  log "fetching DuckDB 1.4.4 from the npm registry"
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$DUCKDB_LIB_PKG" "$DUCKDB_HDR_PKG" >/dev/null 2>&1)
  tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp" package/libduckdb.so
  tar -xzf "$tmp"/duckdb-1.4.4.tgz -C "$tmp" package/src/duckdb/src/include/duckdb.h
  mkdir -p "$DUCKDB_DIR/lib" "$DUCKDB_DIR/include"
  if ! sha_ok "$tmp/package/libduckdb.so" "$DUCKDB_LIB_SHA256"; then
    log "libduckdb.so checksum mismatch; refusing to use it"; exit 1
  fi
  if ! sha_ok "$tmp/package/src/duckdb/src/include/duckdb.h" "$DUCKDB_HDR_SHA256"; then
    log "duckdb.h checksum mismatch; refusing to use it"; exit 1
  fi
  install -m 0644 "$tmp/package/libduckdb.so" "$DUCKDB_DIR/lib/libduckdb.so"
  install -m 0644 "$tmp/package/src/duckdb/src/include/duckdb.h" "$DUCKDB_DIR/include/duckdb.h"
}

install_node_tools() {
  # Independent Parquet readers for the tests (hyparquet is pure JavaScript, so it shares
  # no code with DuckDB); versions pinned in tests/readers/package.json + package-lock.json.
  local stamp="$NODE_DIR/node_modules/.pqflow-stamp"
  local want; want="$(sha256sum "$ROOT/tests/readers/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing test-only npm packages"
  mkdir -p "$NODE_DIR"
  cp "$ROOT/tests/readers/package.json" "$ROOT/tests/readers/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1)
  echo "$want" > "$stamp"
}

install_debian_packages
fetch_duckdb
install_node_tools
