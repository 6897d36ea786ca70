//! Whether nmap, started by this process, can open raw sockets (SYN and UDP scans).
//!
//! What matters is the nmap child, not this process: a capability survives `execve` into an
//! ordinary binary only when it is *ambient*, while root keeps its capabilities. So:
//! - effective uid 0 with `CAP_NET_RAW` effective (a container may drop it from root) → root;
//! - otherwise `CAP_NET_RAW` in the ambient set → nmap inherits it but must be told
//!   `--privileged` (it only assumes privilege for uid 0);
//! - otherwise `NMAP_PRIVILEGED` set in the environment: the operator vouches that the nmap
//!   binary carries file capabilities (`setcap cap_net_raw,cap_net_admin+eip`), and nmap reads
//!   the same variable itself.
//!
//! Read from `/proc/self/status`; never prompts for sudo. Elsewhere than Linux: no privilege.

/// Bit of `CAP_NET_RAW` in the capability masks of `/proc/<pid>/status`.
const CAP_NET_RAW: u32 = 13;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawSocketAccess {
    /// Effective uid 0 with `CAP_NET_RAW`.
    Root,
    /// Not root, but nmap will hold `CAP_NET_RAW` (ambient, or file capabilities the operator
    /// vouched for with `NMAP_PRIVILEGED`).
    Capability,
    None,
}

impl RawSocketAccess {
    pub fn is_available(self) -> bool {
        self != RawSocketAccess::None
    }

    /// Arguments nmap needs to use the access: `--privileged` when it is not running as root.
    pub fn nmap_args(self) -> &'static [&'static str] {
        match self {
            RawSocketAccess::Capability => &["--privileged"],
            RawSocketAccess::Root | RawSocketAccess::None => &[],
        }
    }
}

/// This process's raw-socket access, as nmap started from it would have it.
pub fn raw_socket_access() -> RawSocketAccess {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let vouched = std::env::var_os("NMAP_PRIVILEGED").is_some_and(|v| !v.is_empty());
    access_from_status(&status, vouched)
}

/// True when SYN and UDP scans can run (see the module docs).
pub fn has_raw_socket_privilege() -> bool {
    raw_socket_access().is_available()
}

fn access_from_status(status: &str, nmap_privileged_env: bool) -> RawSocketAccess {
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key == name).then(|| value.trim())
        })
    };
    let has_net_raw = |name: &str| {
        field(name)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .map(|mask| mask & (1 << CAP_NET_RAW) != 0)
    };
    // `Uid:` is real, effective, saved and filesystem uid.
    let euid = field("Uid").and_then(|v| v.split_whitespace().nth(1)?.parse::<u32>().ok());
    if euid == Some(0) {
        // Kernels without capability lines: root is enough.
        if has_net_raw("CapEff").unwrap_or(true) {
            return RawSocketAccess::Root;
        }
        return RawSocketAccess::None;
    }
    if has_net_raw("CapAmb") == Some(true) || nmap_privileged_env {
        return RawSocketAccess::Capability;
    }
    RawSocketAccess::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(uid: &str, eff: &str, amb: &str) -> String {
        format!(
            "Name:\tapi_server\nUid:\t{uid}\nGid:\t0\t0\t0\t0\n\
             CapInh:\t0000000000000000\nCapPrm:\t{eff}\nCapEff:\t{eff}\n\
             CapBnd:\t000001ffffffffff\nCapAmb:\t{amb}\n"
        )
    }

    const NONE: &str = "0000000000000000";
    const ALL: &str = "000001fffeffffff";
    const NET_RAW: &str = "0000000000002000";
    const ALL_BUT_NET_RAW: &str = "000001fffeffdfff";

    #[test]
    fn root_with_net_raw() {
        let s = status("0\t0\t0\t0", ALL, NONE);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::Root);
        // sudo-style: real uid not 0, effective 0.
        let s = status("1000\t0\t0\t0", ALL, NONE);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::Root);
    }

    #[test]
    fn root_without_net_raw_is_not_enough() {
        let s = status("0\t0\t0\t0", ALL_BUT_NET_RAW, NONE);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::None);
    }

    #[test]
    fn unprivileged_user() {
        let s = status("1000\t1000\t1000\t1000", NONE, NONE);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::None);
        // Effective only: lost when nmap is executed.
        let s = status("1000\t1000\t1000\t1000", NET_RAW, NONE);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::None);
        // The effective uid is the second field, not the first.
        let s = status("0\t1000\t1000\t1000", NONE, NONE);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::None);
    }

    #[test]
    fn ambient_capability_or_operator_vouching() {
        let s = status("1000\t1000\t1000\t1000", NET_RAW, NET_RAW);
        assert_eq!(access_from_status(&s, false), RawSocketAccess::Capability);
        let s = status("1000\t1000\t1000\t1000", NONE, NONE);
        assert_eq!(access_from_status(&s, true), RawSocketAccess::Capability);
        assert_eq!(RawSocketAccess::Capability.nmap_args(), ["--privileged"]);
        assert!(RawSocketAccess::Root.nmap_args().is_empty());
    }

    #[test]
    fn unreadable_status_means_no_privilege() {
        assert_eq!(access_from_status("", false), RawSocketAccess::None);
        assert_eq!(
            access_from_status("Uid:\tgarbage\n", false),
            RawSocketAccess::None
        );
        assert_eq!(
            access_from_status("Uid:\t0\t0\t0\t0\n", false),
            RawSocketAccess::Root
        );
        let s = status("1000\t1000\t1000\t1000", NONE, "zz");
        assert_eq!(access_from_status(&s, false), RawSocketAccess::None);
    }

    #[test]
    fn this_process_matches_its_status_file() {
        let text = std::fs::read_to_string("/proc/self/status").unwrap();
        let vouched = std::env::var_os("NMAP_PRIVILEGED").is_some_and(|v| !v.is_empty());
        assert_eq!(raw_socket_access(), access_from_status(&text, vouched));
    }
}
