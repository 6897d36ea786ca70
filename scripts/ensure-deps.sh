# Sourced by the set-up scripts: installs what a fresh Debian machine lacks, and nothing else.
# Never downloads binaries from outside the distribution: nmap and (when absent) Rust come from apt.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "error: '$*' needs root and sudo is not installed" >&2; return 1
  fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# The report test renders report.html in headless Chromium (Debian's `chromium` package); the
# dashboard test drives it through chromedriver (`chromium-driver`, same version).
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && return 0
  echo "==> chromium or chromedriver not found: installing them with apt (the report.html and dashboard browser tests need them)" >&2
  apt_install chromium chromium-driver
}

# The browser tests run axe-core (npm registry, pinned) in the pages through WebDriver: the
# script lands in target/axe/node_modules/axe-core/axe.min.js, where the tests look for it.
AXE_CORE_VERSION=4.14.1
ensure_axe() {
  local js=target/axe/node_modules/axe-core/axe.min.js
  if [ -f "$js" ] && grep -q "axe v$AXE_CORE_VERSION" "$js"; then return 0; fi
  command -v npm >/dev/null 2>&1 || {
    echo "==> npm not found: installing it with apt (the accessibility checks need axe-core)" >&2
    apt_install npm
  }
  echo "==> installing axe-core $AXE_CORE_VERSION from the npm registry into target/axe" >&2
  mkdir -p target/axe
  npm install --no-audit --no-fund --no-save --prefix target/axe "axe-core@$AXE_CORE_VERSION" >&2
}

ensure_nmap() {
  command -v nmap >/dev/null 2>&1 && return 0
  echo "==> nmap not found: installing it with apt" >&2
  apt_install nmap
}

# The project needs Rust >= 1.89 (edition 2024, File::try_lock). Debian bookworm's plain `cargo` is
# 1.65, too old; its `rustc-web`/`cargo-web` packages (bookworm-security, 1.96) are recent enough.
ensure_cargo() {
  if command -v cargo >/dev/null 2>&1; then return 0; fi
  for dir in "$HOME/.cargo/bin" /usr/lib/rust-web/bin; do
    if [ -x "$dir/cargo" ]; then PATH="$dir:$PATH"; export PATH; return 0; fi
  done
  echo "==> cargo not found: installing Debian's cargo-web and rustc-web" >&2
  apt_install ca-certificates gcc libc6-dev pkg-config cargo-web rustc-web || {
    echo "error: could not install Rust from apt; install Rust 1.85+ (https://rustup.rs) and rerun" >&2
    return 1
  }
  command -v cargo >/dev/null 2>&1 || { PATH="/usr/lib/rust-web/bin:$PATH"; export PATH; }
}

# The packet-loss test drops SYNs with nftables inside its own network namespace (`unshare -n`,
# util-linux; `ip`, iproute2).
ensure_nftables() {
  command -v nft >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 \
    && command -v ip >/dev/null 2>&1 && return 0
  echo "==> nft, unshare or ip not found: installing nftables, util-linux and iproute2 with apt (the packet-loss test needs them)" >&2
  apt_install nftables util-linux iproute2
}

# The TLS watch tests make their certificates and serve them with the openssl CLI (`s_server`).
ensure_openssl() {
  command -v openssl >/dev/null 2>&1 && return 0
  echo "==> openssl not found: installing it with apt (the TLS watch tests need it)" >&2
  apt_install openssl
}

# The deploy/ unit test runs `systemd-analyze verify` (Debian's `systemd` package).
ensure_systemd_analyze() {
  command -v systemd-analyze >/dev/null 2>&1 && return 0
  echo "==> systemd-analyze not found: installing systemd with apt (the deploy/ unit test needs it)" >&2
  apt_install systemd
}

# The store's tests and the end-to-end tests run on PostgreSQL too: a private cluster made by
# scripts/pg-cluster.sh (initdb as the `postgres` user, loopback only), never the system
# service. Debian's `postgresql` brings the server binaries under /usr/lib/postgresql/*/bin
# and the `postgres` user; the service it may start is not used.
ensure_postgres() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && id postgres >/dev/null 2>&1; then
    return 0
  fi
  echo "==> PostgreSQL server not found: installing postgresql with apt (the PostgreSQL store tests need it)" >&2
  apt_install postgresql
}

# scripts/api-conformance.sh: `promtool check metrics` (Debian's `prometheus` package), curl, and
# a Python virtualenv for schemathesis (Debian splits `venv` into `python3-venv`).
ensure_conformance_tools() {
  command -v promtool >/dev/null 2>&1 || {
    echo "==> promtool not found: installing prometheus with apt (the metrics format check needs it)" >&2
    apt_install prometheus
  }
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || {
    echo "==> python3 venv not usable: installing python3-venv with apt (schemathesis runs in one)" >&2
    apt_install python3-venv
  }
}

# The email tests start Debian's aiosmtpd (`/usr/bin/python3 -m aiosmtpd`) on loopback, with a
# certificate made by `openssl` for STARTTLS. The system python is used: a python from elsewhere
# on PATH (pyenv, a venv) does not see Debian's python3-aiosmtpd.
ensure_aiosmtpd() {
  if /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    return 0
  fi
  echo "==> aiosmtpd or openssl not found: installing python3-aiosmtpd and openssl with apt (the email tests need them)" >&2
  apt_install python3-aiosmtpd openssl
}
