#!/usr/bin/env bash
# Export streaming, figures recorded in docs/BENCHMARKS.md, "Export": peak memory of
# `daily_scan export --zip` over 30 and 365 stored runs (a month and a year of nightly runs),
# and of api_server before and after serving GET /api/export.zip over the 365 (its anchor: the
# same server after GET /api/snapshots?limit=1000). Memory must not grow with the archive.
# Usage: bench/export.sh [BIN_DIR]   (default target/debug; needs python3, curl, /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(cd "${1:-target/debug}" && pwd)"
fixture="$PWD/tests/fixtures/loopback/sv_two_hosts.xml"
work="$(mktemp -d /tmp/export_bench.XXXXXX)"
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

make_runs() { # N: N runs a day apart, imported, each with its four files in its report folder
  local n="$1" dir="$work/runs-$1"
  mkdir -p "$dir/xml" "$dir/out"
  printf 'output_dir = "out"\n[api]\nbind = "127.0.0.1:18196"\nrate_limit_per_minute = 0\n' > "$dir/config.toml"
  for i in $(seq 1 "$n"); do
    sed "s/start=\"1795281605\"/start=\"$((1700000000 + i * 86400))\"/" "$fixture" > "$dir/xml/$i.xml"
  done
  (cd "$dir" && "$bin/daily_scan" --config config.toml import $(seq -f xml/%g.xml 1 "$n") --profile bench >/dev/null
   for i in $(seq 1 "$n"); do
     stamp=$(date -u -d "@$((1700000000 + i * 86400))" +%Y%m%dT%H%M%SZ)
     "$bin/daily_scan" --config config.toml report "$i" --out "out/$stamp" >/dev/null
   done)
}

for n in 30 365; do
  make_runs "$n"
  (cd "$work/runs-$n" && /usr/bin/time -v "$bin/daily_scan" --config config.toml export --zip all.zip \
     2> time.txt >/dev/null
   printf 'daily_scan export, %3d runs: %8d-byte ZIP, %6.1f MB peak RSS\n' "$n" "$(stat -c %s all.zip)" \
     "$(awk '/Maximum resident/ { print $6 / 1024 }' time.txt)")
done

cd "$work/runs-365"
SCANNER_CONFIG=config.toml "$bin/api_server" 2>/dev/null & server=$!
until curl -s -o /dev/null http://127.0.0.1:18196/api/health; do sleep 0.2; done
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status"; }
curl -s -o /dev/null 'http://127.0.0.1:18196/api/snapshots?limit=1000'
echo "api_server peak RSS after GET /api/snapshots?limit=1000 (anchor): $(hwm) MB"
curl -s -o web.zip http://127.0.0.1:18196/api/export.zip
python3 -m zipfile -t web.zip >/dev/null
echo "api_server peak RSS after GET /api/export.zip ($(stat -c %s web.zip) bytes): $(hwm) MB"
