#!/usr/bin/env bash
# The cost of confirmation ([batch] confirm) on a /24 quick run, with no loss and with 30% of
# inbound SYNs dropped. Everything runs inside a private network namespace (`unshare -n`, its
# own loopback, nftables): no other address is touched. Needs root (or unshare rights), nmap,
# nft, python3 and hyperfine.
#   bench/confirm.sh [DAILY_SCAN]   (default: target/release/daily_scan)
set -euo pipefail
if [ "${CONFIRM_BENCH_INSIDE:-}" != 1 ]; then
  bin=$(realpath "${1:-target/release/daily_scan}")
  exec env CONFIRM_BENCH_INSIDE=1 unshare -n "$0" "$bin"
fi
bin=$1
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
ip link set lo up
# Ten listeners on the /24 (one port each), so there is something to lose.
python3 - <<'PY' &
import socket, threading, time
socks = []
for i in range(1, 11):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((f"127.0.70.{i}", 80)); s.listen(64); socks.append(s)
    threading.Thread(target=lambda s=s: [c.close() for c, _ in iter(s.accept, None)], daemon=True).start()
time.sleep(100000)
PY
sleep 1
echo "127.0.70.0/24" > "$work/targets.txt"
for c in true false; do
  mkdir -p "$work/$c"
  printf 'output_dir = "%s"\nlog_level = "warn"\n[batch]\nprofile = "quick"\nconfirm = %s\n' \
    "$work/$c/out" "$c" > "$work/$c/config.toml"
  "$bin" --config "$work/$c/config.toml" -f "$work/targets.txt" --quiet >/dev/null  # baseline
done
# Mean, median and range per side, and the ratio of medians (the machine may be shared).
run() { hyperfine --runs "${RUNS:-5}" --export-markdown "$work/$1.md" --export-json "$work/$1.json" \
  -n "confirm=false" "$bin --config $work/false/config.toml -f $work/targets.txt --quiet" \
  -n "confirm=true" "$bin --config $work/true/config.toml -f $work/targets.txt --quiet" >&2
  echo "### $1"; cat "$work/$1.md"
  python3 - "$work/$1.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name, x in r.items():
    print(f"{name}: median {x['median']:.3f} s, min {x['min']:.3f}, max {x['max']:.3f}, "
          f"runs {', '.join(f'{t:.2f}' for t in x['times'])}")
print(f"ratio of medians (true/false): {r['confirm=true']['median'] / r['confirm=false']['median']:.3f}")
PY
}
run "no loss"
nft -f - <<'NFT'
table inet loss {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp flags & (syn | ack) == syn numgen random mod 100 < 30 drop
  }
}
NFT
run "30% SYN loss"
# What the confirmed runs dropped as flaps, from the last delta of each install.
for c in true false; do
  d=$(ls -d "$work/$c/out"/2*/ | tail -1)
  printf 'confirm=%s last run: ' "$c"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"])' "$d/delta.json"
done
