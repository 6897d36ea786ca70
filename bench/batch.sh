#!/usr/bin/env bash
# daily_scan benchmarks (release build), figures recorded in docs/BENCHMARKS.md, "daily_scan":
#  1. `daily_scan diff A.xml B.xml` on the 65,536-host pair       (goal <= 2.5 s, <= 400 MB)
#  2. `daily_scan import A.xml` into a fresh database              (goal <= 3 s)
#  3. `daily_scan diff ID1 ID2` between the two stored snapshots   (goal <= 1 s)
#  4. `daily_scan -f targets.txt` over 127.0.0.0/24, profile quick, vs one nmap over the /24
#     with the same arguments                                       (goal <= 1.2x)
# Usage: bench/batch.sh [RUNS]   (needs python3, nmap, /usr/bin/time; hyperfine for part 4)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
a=/tmp/medium.xml
b=/tmp/medium_mut.xml
gen=tests/fixtures/generator/gen_nmap_xml.py   # a copy of ../shared/bench/gen_nmap_xml.py
work="$(mktemp -d /tmp/daily_scan_bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

[[ -f "$a" ]] || python3 "$gen" --hosts 65536 --ports-per-host 5 --seed 1 -o "$a"
[[ -f "$b" ]] || python3 "$gen" --hosts 65536 --ports-per-host 5 --seed 1 \
    --mutate 0.05 --truth /tmp/medium_truth.json -o "$b"

cargo build --release --bin daily_scan
bin="$PWD/target/release/daily_scan"
export SCANNER_CONFIG=/dev/null   # built-in defaults; every path is given below

once() { # label, command...: one run under /usr/bin/time -v
    local label="$1"; shift
    /usr/bin/time -v "$@" >"$work/out" 2>"$work/time" || true
    printf '%-24s %6s s wall, %7.1f MB peak RSS\n' "$label" \
        "$(awk -F': ' '/Elapsed \(wall/ {n=split($2,t,":"); s=t[n]+60*t[n-1]; print s}' "$work/time")" \
        "$(awk -F': ' '/Maximum resident/ {print $2/1024}' "$work/time")"
}

measure() { # label, command...: $runs runs
    local label="$1"; shift
    for i in $(seq 1 "$runs"); do once "$label (run $i)" "$@"; done
}

echo "== 1. diff of two nmap XML files (65,536 hosts each)"
measure "diff A.xml B.xml" "$bin" diff "$a" "$b"
echo "   changes found: $(grep -c '^[+-][0-9]' "$work/out" || true) port lines"

echo "== 2. import of one file into a fresh database"
for i in $(seq 1 "$runs"); do
    rm -f "$work"/scans.db*
    sync
    once "import A.xml (run $i)" "$bin" --db "$work/scans.db" import "$a"
done

echo "== 3. delta between the two stored snapshots"
rm -f "$work"/scans.db*
"$bin" --db "$work/scans.db" import "$a" "$b" >/dev/null
sync   # let the kernel write the fresh database back before timing reads of it
measure "diff 1 2" "$bin" --db "$work/scans.db" diff 1 2

echo "== 4. daily_scan over 127.0.0.0/24 (profile quick) vs one nmap with the same arguments"
mkdir -p "$work/net"
cat >"$work/net/config.toml" <<'EOF'
output_dir = "out"
log_level = "warn"
[batch]
profile = "quick"
EOF
echo "127.0.0.0/24" >"$work/net/targets.txt"
cd "$work/net"
# A previous snapshot to compare with, restored before each timed run.
"$bin" --config config.toml -f targets.txt >/dev/null
cp -r out out.base
nmap_cmd="$("$bin" --config config.toml -f targets.txt --dry-run | sed -n 's/^  1\. [0-9]* address\(es\)\{0,1\}: //p')"
echo "   nmap command: $nmap_cmd"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --runs "$runs" \
        --prepare "rm -rf out && cp -r out.base out" \
        -n daily_scan "$bin --config config.toml -f targets.txt" \
        -n nmap "$nmap_cmd >/dev/null"
else
    echo "(hyperfine not installed: apt-get install hyperfine)"
fi
