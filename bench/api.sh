#!/usr/bin/env bash
# API benchmark, loopback only.
#  1. A 10-target POST /api/scan (127.0.0.2-11, each with an SSH and an SMTP banner listener on
#     ports 22 and 25) with the quick and default profiles, against one nmap process over the
#     same 10 addresses with the server's exact arguments (read from /api/profiles).
#  2. GET /api/health throughput and latency with wrk (apt-get install wrk).
# Usage: bench/api.sh [RUNS] (default 5); WRK_SECONDS (default 10), WRK_CONNECTIONS (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
wrk_seconds="${WRK_SECONDS:-10}"
wrk_connections="${WRK_CONNECTIONS:-16}"
for tool in nmap curl python3 wrk; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done

cargo build --release --locked --bin api_server
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Listeners: every address greets like OpenSSH on 22 and like Postfix on 25, so -sV identifies
# both from the first bytes (no probe timeouts), the same way for the API and for plain nmap.
cat >"$work/listeners.py" <<'EOF'
import socket, sys, threading
BANNERS = {22: b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 25: b"220 bench.local ESMTP Postfix\r\n"}
def serve(sock, banner):
    while True:
        conn, _ = sock.accept()
        def greet(c=conn):
            try:
                c.sendall(banner); c.settimeout(5); c.recv(256)
            except OSError:
                pass
            finally:
                c.close()
        threading.Thread(target=greet, daemon=True).start()
for i in range(2, 12):
    for port, banner in BANNERS.items():
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((f"127.0.0.{i}", port)); s.listen(128)
        threading.Thread(target=serve, args=(s, banner), daemon=True).start()
open(sys.argv[1], "w").write("ready")
threading.Event().wait()
EOF
python3 "$work/listeners.py" "$work/listeners.ready" &
pids+=($!)

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$work/config.toml" <<EOF
log_level = "warn"
nmap_path = "$(command -v nmap)"
[api]
bind = "127.0.0.1:$port"
rate_limit_per_minute = 0
EOF
./target/release/api_server --config "$work/config.toml" 2>"$work/server.log" &
pids+=($!)
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
    [[ -f "$work/listeners.ready" ]] && curl -sf "$base/api/health" >/dev/null && break
    sleep 0.1
done
curl -sf "$base/api/health" >/dev/null || { cat "$work/server.log"; exit 1; }

targets=(127.0.0.{2..11})
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(nmap --version | head -n 1)"
for profile in quick default; do
    mapfile -t args < <(curl -sf "$base/api/profiles" | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["profiles"] if p["name"] == sys.argv[1]][0]
print("\n".join(p["nmap_args"]))' "$profile")
    body="$(python3 -c 'import json, sys; print(json.dumps({"targets": sys.argv[2:], "scan_type": sys.argv[1]}))' \
        "$profile" "${targets[@]}")"
    echo
    echo "== $profile: nmap ${args[*]} -oX - <10 addresses>"
    api_times=(); nmap_times=()
    for run in $(seq 0 "$runs"); do # run 0 warms caches and is not counted
        t0="$(now)"
        curl -sf -X POST "$base/api/scan" -H 'Content-Type: application/json' -d "$body" \
            -o "$work/reply.json"
        t1="$(now)"
        nmap "${args[@]}" -oX - "${targets[@]}" >"$work/nmap.xml"
        t2="$(now)"
        python3 - "$work/reply.json" <<'EOF'
import json, sys
reply = json.load(open(sys.argv[1]))
assert reply["total_targets"] == 10, reply
for r in reply["results"]:
    assert r["status"] == "completed", r
    open_ports = {p["port"]: p["service"] for p in r["open_ports"]}
    assert open_ports.get(22) == "ssh" and open_ports.get(25) == "smtp", r
EOF
        [[ "$run" == 0 ]] && continue
        api_times+=("$(echo "$t1 - $t0" | bc -l)")
        nmap_times+=("$(echo "$t2 - $t1" | bc -l)")
    done
    api_median="$(printf '%s\n' "${api_times[@]}" | median)"
    nmap_median="$(printf '%s\n' "${nmap_times[@]}" | median)"
    printf 'API, 10 targets in one request: %s s (median of %s: %s)\n' \
        "$(printf '%.3f' "$api_median")" "$runs" "$(printf '%.3f ' "${api_times[@]}")"
    printf 'one nmap over the 10 targets:   %s s (median of %s: %s)\n' \
        "$(printf '%.3f' "$nmap_median")" "$runs" "$(printf '%.3f ' "${nmap_times[@]}")"
    printf 'ratio API / nmap: %.2f (goal <= 1.15)\n' "$(echo "$api_median / $nmap_median" | bc -l)"
done

echo
echo "== GET /api/health: wrk -t2 -c$wrk_connections -d${wrk_seconds}s --latency"
wrk -t2 -c"$wrk_connections" -d"${wrk_seconds}s" --latency "$base/api/health"

echo
echo "== GET /api/health while 10-target default scans keep every scan slot busy"
body="$(python3 -c 'import json, sys; print(json.dumps({"targets": sys.argv[1:], "scan_type": "default"}))' "${targets[@]}")"
(
    end=$(( $(date +%s) + wrk_seconds + 2 ))
    while (( $(date +%s) < end )); do
        curl -sf -X POST "$base/api/scan" -H 'Content-Type: application/json' -d "$body" -o /dev/null
    done
) &
load=$!
sleep 1
curl -sf "$base/api/health"; echo
wrk -t2 -c"$wrk_connections" -d"${wrk_seconds}s" --latency "$base/api/health"
wait "$load"
