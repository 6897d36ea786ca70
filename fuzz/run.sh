#!/usr/bin/env bash
# Builds the libFuzzer targets on the stable toolchain and runs them.
#
#   fuzz/run.sh build                   build every target
#   fuzz/run.sh run TARGET SECONDS      fuzz one target, seeded from fuzz/seeds/TARGET
#   fuzz/run.sh ci [SECONDS]            every target for SECONDS each (default 20), then the
#                                       saved crash inputs in fuzz/regressions/ must not crash
#
# `cargo fuzz` needs nightly flags (-Zsanitizer); the SanitizerCoverage passes libFuzzer needs are
# stable `-C` flags, so this builds the same fuzz/ crate without nightly or cargo-fuzz (no
# AddressSanitizer: the library has no `unsafe`, so panics, overflows and runaway memory are what
# a run finds). `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET` also works from fuzz/ when cargo-fuzz
# is installed.
set -euo pipefail
cd "$(dirname "$0")"
TARGETS=(xml targets ports api_request)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export RUSTFLAGS="--cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros (as cargo-fuzz does).
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
BIN="$CARGO_TARGET_DIR/$TRIPLE/release"
# Real nmap XML (our fixtures and the peer projects' files) seeds the XML target.
declare -A EXTRA_SEEDS=([xml]="../tests/fixtures")

build() { cargo build --release --locked --quiet --bins --target "$TRIPLE"; }

# The corpus grows in fuzz/corpus/TARGET (not committed); the committed seeds are read-only.
run() {
    local target=$1 seconds=$2
    mkdir -p "corpus/$target" "artifacts/$target"
    "$BIN/$target" -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=1024 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="artifacts/$target/" \
        "corpus/$target" "seeds/$target" ${EXTRA_SEEDS[$target]:-}
}

case "${1:-}" in
build) build ;;
run) build && run "$2" "$3" ;;
ci)
    build
    for t in "${TARGETS[@]}"; do
        echo "==> fuzz $t (${2:-20} s)"
        log="$CARGO_TARGET_DIR/fuzz-$t.log"
        status=0
        run "$t" "${2:-20}" >"$log" 2>&1 || status=$?
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)|panicked|ERROR' "$log" || true
        if [ "$status" -ne 0 ]; then
            tail -n 40 "$log" >&2
            echo "fuzz $t: crash (exit $status), input saved in fuzz/artifacts/$t" >&2
            exit 1
        fi
        if [ -d "regressions/$t" ] && [ -n "$(ls -A "regressions/$t")" ]; then
            "$BIN/$t" -runs=0 "regressions/$t"/* >/dev/null 2>&1 || {
                echo "fuzz $t: a saved regression input crashes again" >&2; exit 1; }
        fi
    done
    ;;
*) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
