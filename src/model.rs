//! The scan data model: what nmap found, independent of how it was asked for (API or batch) and
//! where it goes (JSON response, SQLite, reports).
//!
//! Field names follow nmap's XML so that a reader who knows nmap recognises them. Strings that
//! nmap omits are empty rather than `Option`, because "no product reported" and "empty product"
//! mean the same thing to every consumer here.

use serde::{Deserialize, Serialize};

/// One parsed nmap run (one `<nmaprun>` document).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    /// `nmaprun@args`: the command line nmap recorded.
    pub args: String,
    /// `nmaprun@version`.
    pub nmap_version: String,
    /// `nmaprun@start`, Unix seconds.
    pub start: Option<i64>,
    /// `runstats/finished@time`, Unix seconds.
    pub end: Option<i64>,
    pub scaninfo: Vec<ScanInfo>,
    pub hosts: Vec<Host>,
    pub runstats: RunStats,
}

/// `<scaninfo>`: one scan technique and the ports it covered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanInfo {
    /// `syn`, `connect`, `udp`, ...
    pub scan_type: String,
    /// `tcp`, `udp`, `sctp`, `ip`.
    pub protocol: String,
    pub numservices: u32,
    /// nmap's port list, e.g. `1,3-4,6-7,9`.
    pub services: String,
}

/// `<runstats>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// `finished@exit`: `success` or `error`.
    pub exit: String,
    pub summary: String,
    pub elapsed: f64,
    pub hosts_up: u32,
    pub hosts_down: u32,
    pub hosts_total: u32,
    /// `finished@errormsg`, when nmap reports one.
    pub errormsg: String,
}

/// `<host>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// `status@state`: `up`, `down`, `unknown`, `skipped`.
    pub state: String,
    /// `status@reason` (e.g. `syn-ack`, `localhost-response`). Never a change by itself.
    pub reason: String,
    pub addresses: Vec<Address>,
    pub hostnames: Vec<Hostname>,
    pub ports: Vec<Port>,
    /// `<extraports>`: ports not listed one by one (e.g. 997 closed).
    pub extraports: Vec<ExtraPorts>,
    pub os_matches: Vec<OsMatch>,
    /// `<hostscript>` results.
    pub scripts: Vec<Script>,
    pub starttime: Option<i64>,
    pub endtime: Option<i64>,
}

impl Host {
    /// The host's identity: its first IPv4 address, else its first IPv6 address.
    pub fn ip(&self) -> Option<&str> {
        self.addresses
            .iter()
            .find(|a| a.addrtype == "ipv4")
            .or_else(|| self.addresses.iter().find(|a| a.addrtype == "ipv6"))
            .map(|a| a.addr.as_str())
    }

    pub fn mac(&self) -> Option<&str> {
        self.addresses
            .iter()
            .find(|a| a.addrtype == "mac")
            .map(|a| a.addr.as_str())
    }

    /// The first user-given (`user`) hostname, else the first PTR name.
    pub fn hostname(&self) -> Option<&str> {
        self.hostnames
            .iter()
            .find(|h| h.kind == "user")
            .or_else(|| self.hostnames.first())
            .map(|h| h.name.as_str())
    }

    pub fn is_up(&self) -> bool {
        self.state == "up"
    }

    pub fn open_ports(&self) -> impl Iterator<Item = &Port> {
        self.ports.iter().filter(|p| p.is_open())
    }
}

/// `<address>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub addr: String,
    /// `ipv4`, `ipv6` or `mac`.
    pub addrtype: String,
    /// MAC vendor, when nmap knows it.
    pub vendor: String,
}

/// `<hostname>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hostname {
    pub name: String,
    /// `user` (given on the command line) or `PTR` (reverse DNS).
    pub kind: String,
}

/// `<extraports>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraPorts {
    pub state: String,
    pub count: u32,
}

/// `<osmatch>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsMatch {
    pub name: String,
    pub accuracy: u8,
}

/// `<port>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub protocol: String,
    pub portid: u16,
    /// `open`, `closed`, `filtered`, `open|filtered`, `unfiltered`, `closed|filtered`.
    pub state: String,
    /// `state@reason`. Never a change by itself.
    pub reason: String,
    pub service: Service,
    pub scripts: Vec<Script>,
}

impl Port {
    /// Only a plain `open` counts: `open|filtered` (UDP silence) is not evidence of a listener.
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// `<service>` and its `<cpe>` children. All empty when nmap reported no service element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub product: String,
    pub version: String,
    pub extrainfo: String,
    pub ostype: String,
    /// `ssl` when nmap detected a TLS tunnel.
    pub tunnel: String,
    /// `table` (guessed from the port number) or `probed` (seen on the wire).
    pub method: String,
    pub conf: u8,
    pub cpe: Vec<String>,
}

/// `<script>`: only its id and text output; the structured tables are not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub id: String,
    pub output: String,
}
