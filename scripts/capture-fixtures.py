#!/usr/bin/env python3
"""Capture real nmap XML from loopback-only scans into tests/fixtures/loopback/.

Starts small TCP services on distinct loopback addresses, runs the installed nmap against them
and keeps its -oX output verbatim. The parser tests assert exact results on these files, so
re-running this script changes the fixtures (timestamps, nmap/Python versions): re-check the
tests in src/nmap/xml/tests/loopback.rs after a re-capture.

Services (everything else in the port list is closed):
  127.0.0.2:18080  HTTP (Python's http.server answering every GET)
  127.0.0.3:18022  SSH-like banner "SSH-2.0-OpenSSH_9.2p1 Debian-2"
  127.0.0.4:18025  a hostile banner with markup and entities, read by --script banner
  [::1]:18022      the SSH banner again, [::1]:18080 HTTP again
Plus error_exit.xml: nmap told to use a network interface that does not exist.

Only loopback is ever scanned. Run from the repository root: python3 scripts/capture-fixtures.py
"""

import http.server
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading

OUT_DIR = os.path.join("tests", "fixtures", "loopback")
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
HOSTILE_BANNER = b"220 <script>alert('x')</script> & \"q\" &amp; &xxe; ]]> ready\r\n"


class BannerHandler(socketserver.BaseRequestHandler):
    banner = b""

    def handle(self):
        try:
            self.request.sendall(self.banner)
            self.request.settimeout(5)
            while self.request.recv(4096):
                pass
        except OSError:
            pass


class SshHandler(BannerHandler):
    banner = SSH_BANNER


class HostileHandler(socketserver.BaseRequestHandler):
    """Sends the banner and hangs up, so that -sV gives up at once instead of trying every probe."""

    def handle(self):
        try:
            self.request.sendall(HOSTILE_BANNER)
        except OSError:
            pass


class HttpHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><head><title>fixture</title></head><body>ok</body></html>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class Server6(Server):
    address_family = socket.AF_INET6


def serve(server_class, addr, handler):
    server = server_class(addr, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def nmap(name, args, check=True):
    path = os.path.join(OUT_DIR, name)
    cmd = ["nmap", *args, "-oX", path]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(
        cmd, check=check, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main():
    if shutil.which("nmap") is None:
        sys.exit("nmap is not installed")
    os.makedirs(OUT_DIR, exist_ok=True)
    servers = [
        serve(Server, ("127.0.0.2", 18080), HttpHandler),
        serve(Server, ("127.0.0.3", 18022), SshHandler),
        serve(Server, ("127.0.0.4", 18025), HostileHandler),
        serve(Server6, ("::1", 18022), SshHandler),
        serve(Server6, ("::1", 18080), HttpHandler),
    ]
    try:
        nmap("sv_two_hosts.xml", ["-sV", "-p", "18022,18080,18443", "127.0.0.2", "127.0.0.3"])
        nmap("banner_hostile.xml", ["-sV", "--script", "banner", "-p", "18025", "127.0.0.4"])
        nmap("sv_ipv6.xml", ["-6", "-sV", "-p", "18022,18080,18443", "::1"])
        # nmap gives up at once and still writes a complete document, with exit="error".
        nmap("error_exit.xml", ["-p", "18080", "-e", "nosuchiface0", "127.0.0.1"], check=False)
    finally:
        for server in servers:
            server.shutdown()


if __name__ == "__main__":
    main()
