#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs nmap, Chromium, axe-core, systemd-analyze, aiosmtpd and openssl (and Rust) when
# missing, then formatting, lints, and every unit and end-to-end test (real nmap against loopback
# listeners).
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
ensure_cargo
command -v rustfmt >/dev/null 2>&1 || rustup component add rustfmt clippy 2>/dev/null || true

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
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
