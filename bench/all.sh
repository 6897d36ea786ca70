#!/usr/bin/env bash
# The rows of issue 18 ("fast where users wait"), each timed side by side with its anchor in
# the same run, as users run them (release binaries); prints medians, min-max and ratios.
# Figures are recorded in docs/BENCHMARKS.md, "Side by side with the anchors".
#
#   1. daily_scan parse FILE --format json|jsonl|csv > out   vs  xmllint --stream --noout FILE
#   2. daily_scan diff A.xml B.xml --format json              vs  ndiff A B (--no-scripts copies)
#   5. alert sync of a 65,536-host run, 234k unexpected ports (cargo bench --bench alerts)
#
# Usage: bench/all.sh [RUNS]      (default 5; needs hyperfine, xmllint, ndiff, /usr/bin/time)
#   OLD=DIR   also time the daily_scan and alerts bench binaries in DIR (a build of an earlier
#             commit: DIR/daily_scan, DIR/alerts) in the same run, for old-vs-new ratios.
#   NDIFF_RUNS=N  runs of ndiff (default 3: it takes ~20 s a run).
# Input (generated once, ~15 s each, never committed): the 65,536-host pair of bench/batch.sh
# and its --no-scripts twin, in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
ndiff_runs="${NDIFF_RUNS:-3}"
for tool in hyperfine xmllint ndiff python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done

gen=tests/fixtures/generator/gen_nmap_xml.py
a=/tmp/medium.xml
b=/tmp/medium_mut.xml
a_ns=/tmp/medium_noscripts.xml
b_ns=/tmp/medium_mut_noscripts.xml
common=(--hosts 65536 --ports-per-host 5 --seed 1)
[[ -f "$a" ]] || python3 "$gen" "${common[@]}" -o "$a"
[[ -f "$b" ]] || python3 "$gen" "${common[@]}" --mutate 0.05 --truth /tmp/medium_truth.json -o "$b"
[[ -f "$a_ns" ]] || python3 "$gen" "${common[@]}" --no-scripts -o "$a_ns"
[[ -f "$b_ns" ]] || python3 "$gen" "${common[@]}" --no-scripts --mutate 0.05 -o "$b_ns"

cargo build --release --locked --bin daily_scan
cargo bench --locked --bench alerts --no-run 2>/dev/null
bin="$PWD/target/release/daily_scan"
alerts_bench="$(ls -t target/release/deps/alerts-* | grep -v '\.d$' | head -n 1)"
old="${OLD:-}"

work="$(mktemp -d /tmp/bench_all.XXXXXX)"
trap 'rm -rf "$work"' EXIT
out="$work/out"   # a file, as `> out` is: on the same disk as the inputs' /tmp

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "anchors: $(xmllint --version 2>&1 | head -n 1); $(ndiff --version 2>&1 | head -n 1)"

# hyperfine NAME RUNS CMD...: median / min / max in seconds into $work/NAME.tsv
time_cmd() {
    local name="$1" n="$2"; shift 2
    hyperfine --style none --warmup 1 --runs "$n" --export-json "$work/$name.json" \
        "$@" >/dev/null 2>&1
    python3 - "$work/$name.json" >"$work/$name.tsv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{r['median']:.3f}\t{r['min']:.3f}\t{r['max']:.3f}")
EOF
}
# peak RSS in MB of one run
rss() {
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
    awk '{printf "%.0f", $1/1024}' "$work/rss"
}
row() { # label name [rss-command...]
    local label="$1" name="$2"; shift 2
    local mb="-"
    [[ $# -gt 0 ]] && mb="$(rss "$@")"
    IFS=$'\t' read -r med lo hi <"$work/$name.tsv"
    printf '%-52s %7.3f s  (%.3f-%.3f)  %6s MB\n' "$label" "$med" "$lo" "$hi" "$mb"
}
ratio() { # label name-a name-b
    local x y
    x="$(cut -f1 "$work/$2.tsv")"; y="$(cut -f1 "$work/$3.tsv")"
    printf '  %-50s %.2fx\n' "$1" "$(python3 -c "print($x / $y)")"
}

echo
echo "== 1. parse (median of $runs, min-max, peak RSS of one run); $a"
time_cmd xmllint "$runs" "xmllint --stream --noout $a"
time_cmd parse_json "$runs" "$bin parse $a --format json > $out"
time_cmd parse_jsonl "$runs" "$bin parse $a --format jsonl > $out"
time_cmd parse_csv "$runs" "$bin parse $a --format csv > $out"
row "xmllint --stream --noout (anchor)" xmllint xmllint --stream --noout "$a"
row "daily_scan parse --format json > out" parse_json sh -c "$bin parse $a --format json > $out"
row "daily_scan parse --format jsonl > out" parse_jsonl sh -c "$bin parse $a --format jsonl > $out"
row "daily_scan parse --format csv > out" parse_csv sh -c "$bin parse $a --format csv > $out"
if [[ -n "$old" ]]; then
    time_cmd old_parse_json "$runs" "$old/daily_scan parse $a --format json > $out"
    time_cmd old_parse_csv "$runs" "$old/daily_scan parse $a --format csv > $out"
    row "old daily_scan parse --format json > out" old_parse_json \
        sh -c "$old/daily_scan parse $a --format json > $out"
    row "old daily_scan parse --format csv > out" old_parse_csv \
        sh -c "$old/daily_scan parse $a --format csv > $out"
fi
ratio "parse json / xmllint (goal <= 0.35)" parse_json xmllint
ratio "parse jsonl / xmllint" parse_jsonl xmllint
ratio "parse csv / xmllint" parse_csv xmllint
if [[ -n "$old" ]]; then
    ratio "parse json new / old" parse_json old_parse_json
    ratio "parse csv new / old" parse_csv old_parse_csv
fi

echo
echo "== 2. diff of two 65,536-host files, --format json (exit 1: changes found)"
time_cmd diff "$runs" -i "$bin diff $a $b --format json > $out"
time_cmd diff_ns "$runs" -i "$bin diff $a_ns $b_ns --format json > $out"
time_cmd ndiff "$ndiff_runs" -i "ndiff $a_ns $b_ns > $out"
row "daily_scan diff A B --format json" diff sh -c "$bin diff $a $b --format json > $out"
row "daily_scan diff A B --format json (no-scripts pair)" diff_ns \
    sh -c "$bin diff $a_ns $b_ns --format json > $out"
row "ndiff A B (no-scripts pair; anchor)" ndiff sh -c "ndiff $a_ns $b_ns > $out"
if [[ -n "$old" ]]; then
    time_cmd old_diff "$runs" -i "$old/daily_scan diff $a $b --format json > $out"
    row "old daily_scan diff A B --format json" old_diff \
        sh -c "$old/daily_scan diff $a $b --format json > $out"
    "$old/daily_scan" diff "$a" "$b" --format json >"$work/old_diff.json" || true
    "$bin" diff "$a" "$b" --format json >"$work/new_diff.json" || true
    if cmp -s "$work/old_diff.json" "$work/new_diff.json"; then
        echo "  old and new diff output: identical ($(wc -c <"$work/new_diff.json") bytes)"
    else
        echo "  old and new diff output: DIFFERENT"
    fi
fi
ratio "diff (no-scripts pair) / ndiff" diff_ns ndiff
[[ -n "$old" ]] && ratio "diff new / old" diff old_diff

echo
echo "== 5. alert sync, 65,536 hosts, ~234k unexpected ports (benches/alerts.rs, 3 runs each)"
for i in $(seq 1 "$runs"); do
    "$alerts_bench" | sed "s/^/  new #$i /"
    [[ -n "$old" && -x "$old/alerts" ]] && "$old/alerts" | sed "s/^/  old #$i /"
done
