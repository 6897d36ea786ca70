# security-scanner: api_server (default command) and daily_scan in one image.
#
#   docker build -t security-scanner .      # BuildKit (default since Docker 23) or podman/buildah
#   docker run -d --name scanner --cap-add NET_RAW -p 127.0.0.1:5000:5000 \
#       -v scanner-results:/data/scan_results security-scanner
#   docker run --rm --cap-add NET_RAW -v scanner-results:/data/scan_results \
#       -v "$PWD/targets.txt:/data/targets.txt:ro" security-scanner daily_scan -f /data/targets.txt
#
# The image runs as the unprivileged user `scanner`; nmap carries cap_net_raw as a file
# capability so the stealth and UDP profiles work without root. The container must hold NET_RAW
# (`--cap-add NET_RAW`; Docker grants it by default, podman does not): the kernel refuses to
# execute a binary whose file capabilities the container cannot grant, for every profile.
# scripts/container-smoke.sh builds this with podman and checks all of the above.

# ---- build: Debian bookworm's rustc-web/cargo-web (1.96, bookworm-security) ----
FROM docker.io/library/debian:bookworm-slim AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        ca-certificates gcc libc6-dev pkg-config cargo-web rustc-web \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/rust-web/bin:$PATH CARGO_TERM_COLOR=never
WORKDIR /src
# Only what cargo reads (the manifest names benches/ and tests/ targets), so editing docs or
# deploy files does not invalidate the compile step.
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY bin bin
COPY benches benches
COPY tests tests
# The caches keep downloaded crates and build output between builds (BuildKit, buildah).
RUN --mount=type=cache,target=/root/.cargo/registry --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
 && install -m 0755 target/release/api_server target/release/daily_scan /usr/local/bin/

# ---- runtime: slim Debian with nmap, no compiler ----
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        nmap ca-certificates curl libcap2-bin \
 && setcap cap_net_raw+eip /usr/bin/nmap \
 && apt-get purge -y -qq libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin scanner \
 && mkdir -p /data/scan_results \
 && chown -R scanner:scanner /data
COPY --from=build /usr/local/bin/api_server /usr/local/bin/daily_scan /usr/local/bin/
COPY config.toml targets.txt /data/
# NMAP_PRIVILEGED: nmap holds cap_net_raw through the file capabilities set above, so the
# scanner passes --privileged for raw-socket profiles (see src/profile/privilege.rs).
# SCANNER_BIND: listen on every interface of the container; publish the port on loopback only.
ENV NMAP_PRIVILEGED=1 SCANNER_BIND=0.0.0.0:5000
USER scanner
WORKDIR /data
VOLUME ["/data/scan_results"]
EXPOSE 5000
# Probes the port api_server really listens on (the one in SCANNER_BIND).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD curl -fsS --max-time 4 "http://127.0.0.1:${SCANNER_BIND##*:}/api/health" >/dev/null || exit 1
CMD ["api_server"]
