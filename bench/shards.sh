#!/usr/bin/env bash
# Sharded runs (issue 20) on this machine, release build, a private PostgreSQL cluster on
# loopback (durable settings), figures in docs/OPERATIONS.md "Measured":
#  1. One run over ADDRESSES loopback addresses (default 16,384: 127.3.0.0/18; profile quick,
#     one port nothing listens on, so every address is a host with a closed port) as one
#     process (the anchor) and as N = 2, 4, 8 shard processes started at once; then the N
#     shards of one run started one after another, each timed alone: the slowest of them plus
#     the finalize is the wall time N machines would take (the projection).
#  2. The finalize of a 65,536-host run (127.4.0.0/16, 4 shards): the last shard's time from
#     "stored its part" to "finalized" (the merge, the snapshot's save, the delta against the
#     previous run, alerts, reports), read from its log.
# Usage: bench/shards.sh [RUNS] [ADDRESSES_CIDR]   (needs python3, PostgreSQL server binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
cidr="${2:-127.3.0.0/18}"
cargo build --release --locked --bin daily_scan
work="$(mktemp -d /tmp/shards_bench.XXXXXX)"
pg_dir="/tmp/shards_bench_cluster.$$"
port=$((57000 + RANDOM % 1000))
cleanup() {
    bash scripts/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT
url="$(bash scripts/pg-cluster.sh start "$pg_dir" "$port")"
export BIN="$PWD/target/release/daily_scan" URL="$url" WORK="$work" RUNS="$runs" CIDR="$cidr"
python3 - <<'PY'
import os, re, statistics, subprocess, time

bin, url, work, runs, cidr = (os.environ[k] for k in ("BIN", "URL", "WORK", "RUNS", "CIDR"))
runs = int(runs)

def install(name, target):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.toml"), "w") as f:
        f.write(f'output_dir = "out"\nlog_level = "info"\ndatabase = "{url}"\n'
                '[batch]\nprofile = "quick"\nports = "18899"\n')
    with open(os.path.join(d, "targets.txt"), "w") as f:
        f.write(target + "\n")
    return d

def cmd(d, *args):
    return [bin, "--config", os.path.join(d, "config.toml"), "-f",
            os.path.join(d, "targets.txt"), *args]

counter = [0]
def run_id():
    counter[0] += 1
    return f"bench-{os.getpid()}-{counter[0]}"

def at_once(d, n):
    rid = run_id()
    start = time.monotonic()
    procs = [subprocess.Popen(cmd(d, "--shard", f"{k}/{n}", "--run-id", rid),
                              cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for k in range(n)]
    for p in procs:
        assert p.wait() == 0
    return time.monotonic() - start

STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:(\d\d\.\d+))Z")
def seconds(line):
    m = STAMP.match(line)
    h, mi = m.group(1)[11:13], m.group(1)[14:16]
    return int(h) * 3600 + int(mi) * 60 + float(m.group(2))

def finalize_time(log):
    stored = [seconds(l) for l in log.splitlines() if "stored its part" in l]
    done = [seconds(l) for l in log.splitlines() if "finalized as snapshot" in l]
    return done[-1] - stored[-1] if stored and done else None

def one_by_one(d, n):
    rid = run_id()
    times, fin = [], None
    for k in range(n):
        start = time.monotonic()
        p = subprocess.run(cmd(d, "--shard", f"{k}/{n}", "--run-id", rid), cwd=d,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0, p.stderr
        times.append(time.monotonic() - start)
        if k == n - 1:
            fin = finalize_time(p.stderr)
    return max(times[:-1] + [times[-1] - fin]), fin

def whole(d):
    start = time.monotonic()
    assert subprocess.run(cmd(d), cwd=d, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0
    return time.monotonic() - start

med = statistics.median
d = install("wall", cidr)
whole(d)  # a baseline, so every timed run is compared with the one before, as at night
anchor = med([whole(d) for _ in range(runs)])
print(f"## 1. One run over {cidr}, {runs} runs each, medians; anchor: one process {anchor:.2f} s\n")
print("| N | N shards at once here | ratio to one process | slowest shard alone + finalize (N machines) | ratio | finalize |")
print("|---|---|---|---|---|---|")
for n in (2, 4, 8):
    here = med([at_once(d, n) for _ in range(runs)])
    solo = [one_by_one(d, n) for _ in range(runs)]
    slowest, fin = med([s for s, _ in solo]), med([f for _, f in solo])
    proj = slowest + fin
    print(f"| {n} | {here:.2f} s | {here / anchor:.2f}x | {slowest:.2f} + {fin:.2f} = {proj:.2f} s | {proj / anchor:.2f}x | {fin:.2f} s |")

big = install("big", "127.4.0.0/16")
at_once(big, 4)  # the baseline run
fins = []
for _ in range(runs):
    rid = run_id()
    for k in range(3):
        assert subprocess.run(cmd(big, "--shard", f"{k}/4", "--run-id", rid), cwd=big,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    p = subprocess.run(cmd(big, "--shard", "3/4", "--run-id", rid), cwd=big,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr
    fins.append(finalize_time(p.stderr))
print(f"\n## 2. Finalize of a 65,536-host run (4 shards), {runs} runs: median {med(fins):.2f} s (min {min(fins):.2f}, max {max(fins):.2f})")
PY
