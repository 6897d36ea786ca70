#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs nmap, Chromium, axe-core, systemd-analyze,
# aiosmtpd and openssl, PostgreSQL (and Rust) when missing, then formatting, lints, and every
# unit and end-to-end test (real nmap against loopback listeners; the store on SQLite and on a
# private PostgreSQL cluster that the tests start and stop themselves, see
# scripts/pg-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-deps.sh
ensure_nmap
ensure_openssl
ensure_chromium
ensure_axe
ensure_systemd_analyze
ensure_nftables
ensure_conformance_tools
ensure_aiosmtpd
ensure_postgres
ensure_cargo
command -v rustfmt >/dev/null 2>&1 || rustup component add rustfmt clippy 2>/dev/null || true

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
# Under CI=true a PostgreSQL test that cannot start its cluster fails instead of skipping; check
# here too, so a broken install says so once, up front.
if [ "${CI:-}" = true ]; then
  echo "==> PostgreSQL: a private cluster starts"
  pg_check_dir="/tmp/scanner-pg-check-$$"
  echo | PG_FAST=1 bash scripts/pg-cluster.sh serve "$pg_check_dir" 55$((RANDOM % 900 + 100)) >/dev/null
fi
echo "==> cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --lib --bins --tests 2>&1 | tee "$log"
# The OpenAPI document against schemathesis (every operation, --checks all, 0 failures) and
# the metrics formats against promtool (docs/RELIABILITY.md, section 4).
echo "==> API conformance (schemathesis, promtool)"
bash scripts/api-conformance.sh
# A short seeded fuzz run per target, and every saved crash input replayed (docs/RELIABILITY.md).
echo "==> fuzz (${FUZZ_SECONDS:-20} s per target)"
bash fuzz/run.sh ci "${FUZZ_SECONDS:-20}"
# One closing line for the whole run, summed over cargo's per-binary "test result:" lines.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
