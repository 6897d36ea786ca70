#!/usr/bin/env bash
# Set up and run api_server on 127.0.0.1:5000 (or SCANNER_BIND): installs nmap and Rust when
# missing, builds the release binaries, then runs the server in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-deps.sh
ensure_nmap
ensure_cargo
cargo build --release --locked --bins
exec ./target/release/api_server "$@"
