//! The TLS pass: which open ports speak TLS, and the one nmap argument vector that examines
//! them with nmap's own `ssl-cert` and `ssl-enum-ciphers` scripts.

use super::NmapTuning;
use crate::model::Port;

/// Ports treated as TLS by number when the port scan did not say (`[tls] ports` default):
/// https, smtps, nntps, ldaps, dns-over-tls, ftps, telnets, imaps, pop3s, docker-tls,
/// ldaps-gc, sips, winrm-https, ircs, and the usual alternative https ports.
pub const DEFAULT_TLS_PORTS: [u16; 18] = [
    443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 2376, 3269, 5061, 5986, 6697, 8443, 9443,
];

/// nmap service names of TLS services.
const TLS_SERVICES: [&str; 12] = [
    "https",
    "https-alt",
    "imaps",
    "pop3s",
    "smtps",
    "submissions",
    "ldaps",
    "ftps",
    "ftps-data",
    "nntps",
    "ircs",
    "sips",
];

/// Whether an open TCP port is worth a TLS look: nmap saw a TLS tunnel (`tunnel="ssl"`), named
/// a TLS service, or the port number is in `extra_ports`.
pub fn speaks_tls(p: &Port, extra_ports: &[u16]) -> bool {
    if !p.is_open() || !p.protocol.eq_ignore_ascii_case("tcp") {
        return false;
    }
    let name = p.service.name.to_ascii_lowercase();
    p.service.tunnel.eq_ignore_ascii_case("ssl")
        || TLS_SERVICES.contains(&name.as_str())
        || name.starts_with("ssl/")
        || extra_ports.contains(&p.portid)
}

/// nmap's arguments for the TLS pass over `ports` (before `-oX -` and the targets): a TCP
/// connect scan of exactly those ports, no host discovery (the port scan found them up), and
/// the two scripts forced with `+` so they run on ports nmap would not call TLS by number.
/// `ports` must not be empty.
pub fn tls_pass_args(tuning: &NmapTuning, ports: &[u16]) -> Vec<String> {
    let mut sorted = ports.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let list: Vec<String> = sorted.iter().map(u16::to_string).collect();
    let mut args: Vec<String> = ["-sT", "-Pn", "-p"].map(String::from).to_vec();
    args.push(list.join(","));
    args.push("--script".into());
    args.push("+ssl-cert,+ssl-enum-ciphers".into());
    args.extend(tuning.args());
    args.push("--noninteractive".into());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    fn port(portid: u16, name: &str, tunnel: &str) -> Port {
        Port {
            protocol: "tcp".into(),
            portid,
            state: "open".into(),
            service: Service {
                name: name.into(),
                tunnel: tunnel.into(),
                ..Service::default()
            },
            ..Port::default()
        }
    }

    #[test]
    fn tls_ports_by_tunnel_name_or_number() {
        assert!(speaks_tls(&port(18443, "http", "ssl"), &[]));
        assert!(speaks_tls(&port(993, "imaps", ""), &[]));
        assert!(speaks_tls(&port(8443, "", ""), &DEFAULT_TLS_PORTS));
        assert!(!speaks_tls(&port(80, "http", ""), &DEFAULT_TLS_PORTS));
        let mut closed = port(443, "https", "ssl");
        closed.state = "closed".into();
        assert!(!speaks_tls(&closed, &DEFAULT_TLS_PORTS));
        let mut udp = port(443, "https", "");
        udp.protocol = "udp".into();
        assert!(!speaks_tls(&udp, &DEFAULT_TLS_PORTS));
    }

    #[test]
    fn arguments_name_exactly_the_ports_and_scripts() {
        let args = tls_pass_args(&NmapTuning::default(), &[8443, 443, 8443]);
        let p = args.iter().position(|a| a == "-p").unwrap();
        assert_eq!(args[p + 1], "443,8443");
        assert!(args.contains(&"+ssl-cert,+ssl-enum-ciphers".to_string()));
        assert!(args.contains(&"-Pn".to_string()));
        assert_eq!(args.last().unwrap(), "--noninteractive");
    }
}
