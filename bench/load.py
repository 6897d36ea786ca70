#!/usr/bin/env python3
"""Load and abuse client for bench/load.sh (stdlib only, loopback only, every loop bounded).

  load.py scan BASE N CONCURRENCY TARGET... [--ports P]  POST /api/scan N times
  load.py slow BASE CONNECTIONS SECONDS PROBES           slow clients + /api/health probes
  load.py sample PID SECONDS OUT                         nmap children, fds, threads of PID
  load.py stats PID                                      fds, threads, RSS of PID now
  load.py listen READY PORT ADDRESS...                   accept-and-close listeners

Prints one JSON object on stdout.
"""
import http.client, json, os, socket, sys, threading, time
from urllib.parse import urlparse


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * p / 100))] * 1000, 1)


def summary(latencies):
    return {f"p{p}": pct(latencies, p) for p in (50, 90, 99)} | {
        "max": round(max(latencies) * 1000, 1) if latencies else None}


def scan(base, n, concurrency, targets, ports):
    u = urlparse(base)
    statuses, latencies, lock = {}, [], threading.Lock()
    counter = iter(range(n))
    body = lambda i: json.dumps({"target": targets[i % len(targets)],
                                 "scan_type": "quick", "ports": ports})

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.monotonic()
            try:
                conn.request("POST", "/api/scan", body(i), {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                key = str(r.status)
            except (OSError, http.client.HTTPException) as e:
                key = type(e).__name__
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            dt = time.monotonic() - t0
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
                latencies.append(dt)
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": n, "concurrency": concurrency, "seconds": round(time.monotonic() - t0, 1),
            "statuses": statuses, "latency_ms": summary(latencies)}


def slow(base, connections, seconds, probes):
    """`connections` clients each send a request's headers one byte per second for `seconds`;
    meanwhile GET /api/health is timed `probes` times, one per 0.5 s."""
    u = urlparse(base)
    request = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096
    socks, opened = [], 0
    for _ in range(connections):
        try:
            s = socket.create_connection((u.hostname, u.port), timeout=5)
            socks.append(s)
            opened += 1
        except OSError:
            break
    stop = time.monotonic() + seconds

    def drip():
        i = 0
        while time.monotonic() < stop and i < len(request):
            for s in list(socks):
                try:
                    s.send(request[i:i + 1])
                except OSError:
                    socks.remove(s)
            i += 1
            time.sleep(1)

    dripper = threading.Thread(target=drip)
    dripper.start()
    time.sleep(2)
    latencies, failures = [], 0
    for _ in range(probes):
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            c.request("GET", "/api/health")
            ok = c.getresponse().status == 200
            c.close()
        except (OSError, http.client.HTTPException):
            ok = False
        dt = time.monotonic() - t0
        if ok:
            latencies.append(dt)
        else:
            failures += 1
        time.sleep(0.5)
    dripper.join()
    still_open = len(socks)
    for s in socks:
        s.close()
    return {"slow_connections": opened, "still_open_after": still_open, "seconds": seconds,
            "health_probes": probes, "health_failures": failures,
            "health_latency_ms": summary(latencies)}


def proc_stats(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = int([l for l in open(f"/proc/{pid}/status") if l.startswith("Threads:")][0].split()[1])
    rss = int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")][0].split()[1])
    return fds, threads, rss


def nmap_children(pid):
    """Live nmap scans (`-oX`) whose parent is `pid`; `nmap --version` health probes are not
    scans and take no slot."""
    n = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open(f"/proc/{p}/stat").read()
            comm = stat[stat.find("(") + 1:stat.rfind(")")]
            state, ppid = stat[stat.rfind(")") + 2:].split()[:2]
        except OSError:
            continue
        # A zombie has exited (its slot may already be free): only live nmap processes count.
        if comm == "nmap" and int(ppid) == pid and state != "Z":
            try:
                n += b"-oX" in open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")
            except OSError:
                pass
    return n


def sample(pid, seconds, out):
    peak_nmap, peak_threads, peak_fds = 0, 0, 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and os.path.exists(out + ".run"):
        peak_nmap = max(peak_nmap, nmap_children(pid))
        fds, threads, _ = proc_stats(pid)
        peak_fds, peak_threads = max(peak_fds, fds), max(peak_threads, threads)
        time.sleep(0.02)
    json.dump({"peak_nmap_children": peak_nmap, "peak_threads": peak_threads,
               "peak_fds": peak_fds}, open(out, "w"))


def listen(ready, port, addresses):
    def serve(s):
        while True:
            c, _ = s.accept()
            c.close()
    for a in addresses:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, port))
        s.listen(512)
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    open(ready, "w").write("ready")
    threading.Event().wait()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "scan":
        ports = args[args.index("--ports") + 1] if "--ports" in args else "1"
        pos = [a for i, a in enumerate(args) if a != "--ports" and (i == 0 or args[i - 1] != "--ports")]
        print(json.dumps(scan(pos[0], int(pos[1]), int(pos[2]), pos[3:], ports)))
    elif cmd == "slow":
        print(json.dumps(slow(args[0], int(args[1]), int(args[2]), int(args[3]))))
    elif cmd == "sample":
        sample(int(args[0]), float(args[1]), args[2])
    elif cmd == "stats":
        fds, threads, rss = proc_stats(int(args[0]))
        print(json.dumps({"fds": fds, "threads": threads, "rss_kb": rss}))
    elif cmd == "listen":
        listen(args[0], int(args[1]), args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
