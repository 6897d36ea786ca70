//! Scan profiles and the nmap argument vectors they stand for.
//!
//! A profile's vector holds everything except the targets and the output flags (the runner
//! adds `-oX -` and the addresses). Every choice that changes results is explicit rather than
//! left to nmap's defaults, which depend on privilege: `quick`, `default` and `tcp_full` always
//! connect-scan (`-sT`), so root and non-root runs give the same answers, and `stealth` is the
//! SYN scan. Each vector ends in `--noninteractive`: nmap never reads the keyboard.

mod ports;
mod privilege;
pub mod tls;
mod tuning;

use std::fmt;
use std::str::FromStr;

pub use ports::{MAX_PORT_SPEC_LEN, PortSpec, PortSpecError};
pub use privilege::{RawSocketAccess, has_raw_socket_privilege, raw_socket_access};
pub use tuning::{MAX_RETRIES_LIMIT, NmapTuning};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Quick,
    Default,
    Stealth,
    TcpFull,
    UdpCommon,
    UdpFull,
}

/// nmap 7.93's 100 most common UDP ports (`nmap -sU --top-ports 100`), for `udp_common`:
/// `--top-ports` counts per protocol, so "TCP top 1000 + UDP top 100" needs the UDP list.
const UDP_TOP_100: &str = "7,9,17,19,49,53,67-69,80,88,111,120,123,135-139,158,161-162,177,427,\
443,445,497,500,514-515,518,520,593,623,626,631,996-999,1022-1023,1025-1030,1433-1434,\
1645-1646,1701,1718-1719,1812-1813,1900,2000,2048-2049,2222-2223,3283,3456,3703,4444,4500,\
5000,5060,5353,5632,9200,10000,17185,20031,30718,31337,32768-32769,32771,32815,33281,\
49152-49154,49156,49181-49182,49185-49186,49188,49190-49194,49200-49201,65024";

impl Profile {
    pub const ALL: [Profile; 6] = [
        Profile::Quick,
        Profile::Default,
        Profile::Stealth,
        Profile::TcpFull,
        Profile::UdpCommon,
        Profile::UdpFull,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Default => "default",
            Profile::Stealth => "stealth",
            Profile::TcpFull => "tcp_full",
            Profile::UdpCommon => "udp_common",
            Profile::UdpFull => "udp_full",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Profile::Quick => "top 100 TCP ports, connect scan, no version detection",
            Profile::Default => "top 1000 TCP ports, connect scan, service/version detection",
            Profile::Stealth => "top 1000 TCP ports, SYN scan; needs root or CAP_NET_RAW",
            Profile::TcpFull => "all 65535 TCP ports, connect scan, service/version detection",
            Profile::UdpCommon => "top 1000 TCP (SYN) and top 100 UDP ports; needs root",
            Profile::UdpFull => "all 65535 UDP ports; needs root",
        }
    }

    /// Whether one HTTP request may run it (the others are too slow: batch only).
    pub fn api_allowed(self) -> bool {
        matches!(self, Profile::Quick | Profile::Default | Profile::Stealth)
    }

    /// SYN and UDP scans need raw sockets.
    pub fn needs_raw_socket(self) -> bool {
        matches!(
            self,
            Profile::Stealth | Profile::UdpCommon | Profile::UdpFull
        )
    }

    /// `Err(BatchOnly)` for a profile the API refuses.
    pub fn check_api(self) -> Result<(), ProfileError> {
        if self.api_allowed() {
            Ok(())
        } else {
            Err(ProfileError::BatchOnly { profile: self })
        }
    }

    /// `Err(NeedsPrivilege)` when the profile needs raw sockets and `access` has none.
    pub fn check_privilege(self, access: RawSocketAccess) -> Result<(), ProfileError> {
        if self.needs_raw_socket() && !access.is_available() {
            Err(ProfileError::NeedsPrivilege { profile: self })
        } else {
            Ok(())
        }
    }

    /// Whether a run of this profile (with `ports` overriding its selection) scans `port` of
    /// `protocol`: `Some` when that is known without nmap, `None` when it is up to nmap's
    /// `--top-ports` list (TCP top 100/1000).
    pub fn selects(self, ports: Option<&PortSpec>, protocol: &str, port: u16) -> Option<bool> {
        let protocol = protocol.to_ascii_lowercase();
        let (tcp, udp) = match self {
            Profile::Quick | Profile::Default | Profile::Stealth | Profile::TcpFull => {
                (true, false)
            }
            Profile::UdpCommon => (true, true),
            Profile::UdpFull => (false, true),
        };
        let scanned_protocol = (protocol == "tcp" && tcp) || (protocol == "udp" && udp);
        if !scanned_protocol || port == 0 {
            return Some(false);
        }
        if let Some(spec) = ports {
            return Some(spec.contains(port));
        }
        match (self, protocol.as_str()) {
            (Profile::TcpFull | Profile::UdpFull, _) => Some(true),
            (Profile::UdpCommon, "udp") => PortSpec::parse(UDP_TOP_100, None)
                .ok()
                .map(|top| top.contains(port)),
            _ => None,
        }
    }

    /// nmap's arguments for this profile, except targets and output flags. `ports` replaces
    /// the profile's own port selection (for `udp_common`, on both TCP and UDP).
    pub fn nmap_args(self, tuning: &NmapTuning, ports: Option<&PortSpec>) -> Vec<String> {
        let top = |n: &str| vec!["--top-ports".to_string(), n.to_string()];
        let selection = |default: Vec<String>| match ports {
            Some(spec) => vec!["-p".to_string(), spec.to_nmap_arg()],
            None => default,
        };
        let scan: &[&str] = match self {
            Profile::Quick | Profile::Default | Profile::TcpFull => &["-sT"],
            Profile::Stealth => &["-sS"],
            Profile::UdpCommon => &["-sS", "-sU"],
            Profile::UdpFull => &["-sU"],
        };
        let mut args: Vec<String> = scan.iter().map(|s| s.to_string()).collect();
        args.extend(match self {
            Profile::Quick => selection(top("100")),
            Profile::Default | Profile::Stealth => selection(top("1000")),
            Profile::TcpFull | Profile::UdpFull => selection(vec!["-p".into(), "1-65535".into()]),
            Profile::UdpCommon => match ports {
                Some(spec) => {
                    let spec = spec.to_nmap_arg();
                    vec!["-p".into(), format!("T:{spec},U:{spec}")]
                }
                // --top-ports picks within -p: all of TCP's top 1000, and the 100 UDP ports.
                None => vec![
                    "--top-ports".into(),
                    "1000".into(),
                    "-p".into(),
                    format!("T:1-65535,U:{UDP_TOP_100}"),
                ],
            },
        });
        if matches!(self, Profile::Default | Profile::TcpFull) {
            args.push("-sV".into());
        }
        args.extend(tuning.args());
        args.push("--noninteractive".into());
        args
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = ProfileError;

    fn from_str(s: &str) -> Result<Profile, ProfileError> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| ProfileError::UnknownProfile {
                name: s.chars().take(40).collect(),
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "unknown profile `{}`; valid profiles: quick, default, stealth, tcp_full, udp_common, \
         udp_full", name.escape_debug()
    )]
    UnknownProfile { name: String },
    #[error(
        "profile {profile} is batch only (too slow for one HTTP request); \
         run it with `daily_scan --profile {profile}`"
    )]
    BatchOnly { profile: Profile },
    #[error(
        "profile {profile} needs raw sockets (root or CAP_NET_RAW) and this process has none; \
         run it as root or pick quick or default"
    )]
    NeedsPrivilege { profile: Profile },
    #[error("{key}: {reason}")]
    InvalidTuning { key: &'static str, reason: String },
}

impl ProfileError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::UnknownProfile { .. } => "unknown_profile",
            ProfileError::BatchOnly { .. } => "profile_batch_only",
            ProfileError::NeedsPrivilege { .. } => "profile_needs_privilege",
            ProfileError::InvalidTuning { .. } => "invalid_config",
        }
    }
}

#[cfg(test)]
mod tests;
