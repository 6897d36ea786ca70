use super::*;
use ChangeKind::*;
use Severity::*;

type Expect = &'static [(
    ChangeKind,
    &'static str,
    Option<(&'static str, u16)>,
    Severity,
)];

fn check(name: &str, delta: &Delta, want: Expect) {
    let want: Vec<_> = want
        .iter()
        .map(|(k, ip, p, s)| (*k, ip.to_string(), p.map(|(pr, n)| (pr.to_string(), n)), *s))
        .collect();
    assert_eq!(brief(delta), want, "{name}");
}

#[test]
fn each_kind() {
    let with = |p: &mut Port, f: fn(&mut Service)| f(&mut p.service);
    let mut product = open(22);
    with(&mut product, |s| s.product = "OpenSSH".into());
    let mut version = product.clone();
    with(&mut version, |s| s.version = "9.2p1".into());
    let mut name = open(22);
    with(&mut name, |s| s.name = "http".into());

    let cases: Vec<(&str, Vec<Host>, Vec<Host>, Expect)> = vec![
        (
            "new host: its open ports open, its closed ones do not",
            vec![],
            vec![up("192.0.2.1", vec![open(22), port("tcp", 80, "closed")])],
            &[
                (NewHost, "192.0.2.1", None, Medium),
                (PortOpened, "192.0.2.1", Some(("tcp", 22)), High),
            ],
        ),
        (
            "reported down before, up now",
            vec![host("192.0.2.1", "down", vec![])],
            vec![up("192.0.2.1", vec![])],
            &[(NewHost, "192.0.2.1", None, Medium)],
        ),
        (
            "host gone (absent from the completed range) closes its ports",
            vec![up("192.0.2.3", vec![open(3389)])],
            vec![],
            &[
                (HostGone, "192.0.2.3", None, Info),
                (PortClosed, "192.0.2.3", Some(("tcp", 3389)), Info),
            ],
        ),
        (
            "host reported down",
            vec![up("192.0.2.3", vec![])],
            vec![host("192.0.2.3", "down", vec![])],
            &[(HostGone, "192.0.2.3", None, Info)],
        ),
        (
            "port opened takes its severity",
            vec![up(
                "192.0.2.1",
                vec![port("tcp", 3389, "closed"), port("tcp", 21, "filtered")],
            )],
            vec![up("192.0.2.1", vec![open(3389), open(21), open(8080)])],
            &[
                (PortOpened, "192.0.2.1", Some(("tcp", 21)), Medium),
                (PortOpened, "192.0.2.1", Some(("tcp", 3389)), Critical),
                (PortOpened, "192.0.2.1", Some(("tcp", 8080)), Low),
            ],
        ),
        (
            "port closed, filtered or no longer listed",
            vec![up("192.0.2.1", vec![open(22), open(80), open(443)])],
            vec![up(
                "192.0.2.1",
                vec![port("tcp", 22, "closed"), port("tcp", 80, "filtered")],
            )],
            &[
                (PortClosed, "192.0.2.1", Some(("tcp", 22)), Info),
                (PortClosed, "192.0.2.1", Some(("tcp", 80)), Info),
                (PortClosed, "192.0.2.1", Some(("tcp", 443)), Info),
            ],
        ),
        (
            "open|filtered is not open",
            vec![up(
                "192.0.2.1",
                vec![port("udp", 53, "open|filtered"), port("udp", 161, "open")],
            )],
            vec![up(
                "192.0.2.1",
                vec![port("udp", 53, "open"), port("udp", 161, "open|filtered")],
            )],
            &[
                (PortOpened, "192.0.2.1", Some(("udp", 53)), Low),
                (PortClosed, "192.0.2.1", Some(("udp", 161)), Info),
            ],
        ),
        (
            "same port number, other protocol",
            vec![up("192.0.2.1", vec![port("tcp", 53, "open")])],
            vec![up("192.0.2.1", vec![port("udp", 53, "open")])],
            &[
                (PortClosed, "192.0.2.1", Some(("tcp", 53)), Info),
                (PortOpened, "192.0.2.1", Some(("udp", 53)), Low),
            ],
        ),
        (
            "service name, product, version",
            vec![
                up("192.0.2.1", vec![open(22)]),
                up("192.0.2.2", vec![product.clone()]),
                up("192.0.2.3", vec![open(22)]),
            ],
            vec![
                up("192.0.2.1", vec![product.clone()]),
                up("192.0.2.2", vec![version]),
                up("192.0.2.3", vec![name]),
            ],
            &[
                (ServiceChanged, "192.0.2.1", Some(("tcp", 22)), Low),
                (ServiceChanged, "192.0.2.2", Some(("tcp", 22)), Low),
                (ServiceChanged, "192.0.2.3", Some(("tcp", 22)), Low),
            ],
        ),
        (
            "a closed port's service is not watched",
            vec![up("192.0.2.1", vec![port("tcp", 22, "closed")])],
            vec![up(
                "192.0.2.1",
                vec![{
                    let mut p = port("tcp", 22, "closed");
                    p.service.product = "x".into();
                    p
                }],
            )],
            &[],
        ),
    ];
    for (name, before, after, want) in cases {
        check(name, &pair(before, after), want);
    }
}

#[test]
fn noise_is_not_a_change() {
    let base = {
        let mut p = open(22);
        p.service = Service {
            name: "ssh".into(),
            product: "OpenSSH".into(),
            version: "9.2p1".into(),
            extrainfo: "protocol 2.0".into(),
            method: "probed".into(),
            conf: 10,
            cpe: vec!["cpe:/a:openbsd:openssh:9.2p1".into()],
            ..Service::default()
        };
        p
    };
    type Tweak = (&'static str, fn(&mut Host));
    let tweaks: Vec<Tweak> = vec![
        ("port reason", |h| {
            h.ports[0].reason = "syn-ack ttl 64".into()
        }),
        ("host reason", |h| h.reason = "localhost-response".into()),
        ("extrainfo", |h| {
            h.ports[0].service.extrainfo = "protocol 1.99".into()
        }),
        ("conf", |h| h.ports[0].service.conf = 3),
        ("method", |h| h.ports[0].service.method = "table".into()),
        ("cpe", |h| h.ports[0].service.cpe.clear()),
        ("port scripts", |h| {
            h.ports[0].scripts = vec![script("ssh-hostkey", "new key")]
        }),
        ("host scripts", |h| h.scripts = vec![script("smb-os", "x")]),
        ("timing", |h| (h.starttime, h.endtime) = (Some(1), Some(99))),
        ("hostname", |h| {
            h.hostnames = vec![crate::model::Hostname {
                name: "n".into(),
                kind: "PTR".into(),
            }]
        }),
        ("non-open port listed", |h| {
            h.ports.push(port("tcp", 80, "closed"))
        }),
    ];
    for (name, tweak) in tweaks {
        let before = up("192.0.2.1", vec![base.clone()]);
        let mut after = before.clone();
        tweak(&mut after);
        let delta = pair(vec![before], vec![after]);
        assert!(delta.changes.is_empty(), "{name}: {:?}", delta.changes);
        assert_eq!(delta.status, DeltaStatus::Stable, "{name}");
    }
}

#[test]
fn before_and_after_views() {
    let delta = pair(
        vec![up("192.0.2.1", vec![port("tcp", 80, "closed"), open(22)])],
        vec![
            up("192.0.2.1", vec![open(80)]),
            up("192.0.2.2", vec![open(443)]),
        ],
    );
    let view = |state: &str| {
        Some(PortView {
            state: state.into(),
            service: "svc".into(),
            product: String::new(),
            version: String::new(),
        })
    };
    let ports: Vec<_> = delta
        .changes
        .iter()
        .filter_map(|c| c.port.clone())
        .collect();
    assert_eq!(ports.len(), 3, "{:?}", delta.changes);
    assert_eq!(
        (ports[0].port, &ports[0].before, &ports[0].after),
        (22, &view("open"), &None)
    );
    assert_eq!(
        (ports[1].port, &ports[1].before, &ports[1].after),
        (80, &view("closed"), &view("open"))
    );
    assert_eq!(
        (ports[2].port, &ports[2].before, &ports[2].after),
        (443, &None, &view("open"))
    );
}

#[test]
fn deterministic_order() {
    let a = snap(
        "default",
        vec![done("192.0.2.0/24"), done("2001:db8::/120")],
        vec![],
    );
    let b = snap(
        "default",
        vec![done("192.0.2.0/24"), done("2001:db8::/120")],
        vec![
            up("2001:db8::1", vec![open(22)]),
            up(
                "192.0.2.10",
                vec![port("udp", 53, "open"), open(80), open(22)],
            ),
            up("192.0.2.9", vec![open(22)]),
        ],
    );
    let order: Vec<_> = brief(&compare(Some(&a), &b, &DeltaConfig::default()))
        .into_iter()
        .map(|(k, ip, p, _)| (k, ip, p.map(|(pr, n)| format!("{pr}/{n}"))))
        .collect();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        order,
        [
            (NewHost, "192.0.2.9".into(), None),
            (PortOpened, "192.0.2.9".into(), s("tcp/22")),
            (NewHost, "192.0.2.10".into(), None),
            (PortOpened, "192.0.2.10".into(), s("tcp/22")),
            (PortOpened, "192.0.2.10".into(), s("tcp/80")),
            (PortOpened, "192.0.2.10".into(), s("udp/53")),
            (NewHost, "2001:db8::1".into(), None),
            (PortOpened, "2001:db8::1".into(), s("tcp/22")),
        ]
    );
}

#[test]
fn identity_is_the_parsed_address() {
    let a = snap(
        "default",
        vec![done("2001:db8::/64")],
        vec![up("2001:0db8:0:0::0001", vec![open(22)])],
    );
    let b = snap(
        "default",
        vec![done("2001:db8::/64")],
        vec![up("2001:db8::1", vec![open(22)])],
    );
    assert!(
        compare(Some(&a), &b, &DeltaConfig::default())
            .changes
            .is_empty()
    );
}

#[test]
fn duplicate_reports_of_a_host_merge() {
    // Overlapping entries: the host is reported twice, once without the port.
    let delta = pair(
        vec![up("192.0.2.1", vec![open(22)])],
        vec![
            up("192.0.2.1", vec![port("tcp", 22, "closed")]),
            host("192.0.2.1", "down", vec![]),
            up("192.0.2.1", vec![open(22)]),
        ],
    );
    assert!(delta.changes.is_empty(), "{:?}", delta.changes);
}
