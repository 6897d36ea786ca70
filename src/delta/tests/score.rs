use super::*;
use crate::delta::score::{from_penalty, score};

#[test]
fn band_edges() {
    let cases = [
        (100, Band::Excellent),
        (90, Band::Excellent),
        (89, Band::Good),
        (70, Band::Good),
        (69, Band::Monitor),
        (50, Band::Monitor),
        (49, Band::Critical),
        (0, Band::Critical),
    ];
    for (score, band) in cases {
        assert_eq!(Band::of(score), band, "{score}");
    }
    assert_eq!(
        (
            from_penalty(0),
            from_penalty(45),
            from_penalty(100),
            from_penalty(130)
        ),
        (100, 55, 0, 0)
    );
}

#[test]
fn arithmetic_over_open_ports() {
    let cases: Vec<(&str, Vec<Port>, u8, Band)> = vec![
        (
            "nothing open",
            vec![port("tcp", 3389, "closed")],
            100,
            Band::Excellent,
        ),
        (
            "low ports cost nothing",
            vec![open(80), open(443), open(8080)],
            100,
            Band::Excellent,
        ),
        (
            "two medium",
            vec![open(21), open(3306)],
            90,
            Band::Excellent,
        ),
        ("one high", vec![open(22)], 85, Band::Good),
        ("one critical", vec![open(3389)], 70, Band::Good),
        (
            "critical + medium",
            vec![open(3389), open(5432)],
            65,
            Band::Monitor,
        ),
        (
            "critical + high + medium",
            vec![open(3389), open(445), open(21)],
            50,
            Band::Monitor,
        ),
        (
            "critical + high + medium x2",
            vec![open(3389), open(445), open(21), open(3306)],
            45,
            Band::Critical,
        ),
        (
            "floored at zero",
            vec![
                open(3389),
                port("udp", 3389, "open"),
                open(22),
                open(23),
                open(445),
                open(5900),
            ],
            0,
            Band::Critical,
        ),
        (
            "open|filtered is not open",
            vec![port("udp", 3389, "open|filtered")],
            100,
            Band::Excellent,
        ),
    ];
    for (name, ports, want, band) in cases {
        let s = snap(
            "default",
            vec![done("192.0.2.0/28")],
            vec![up("192.0.2.1", ports)],
        );
        let score = score(&s, &DeltaConfig::default());
        assert_eq!(
            (score.overall, score.band),
            (Some(want), Some(band)),
            "{name}"
        );
        assert_eq!(
            score.entries,
            [EntryScore {
                entry: "192.0.2.0/28".into(),
                score: Some(want),
                band: Some(band)
            }],
            "{name}"
        );
    }
    // Ports of down hosts do not count (nmap lists none, but a hand-made snapshot might).
    let s = snap(
        "default",
        vec![done("192.0.2.0/28")],
        vec![host("192.0.2.1", "down", vec![open(3389)])],
    );
    assert_eq!(score(&s, &DeltaConfig::default()).overall, Some(100));
}

#[test]
fn unexpected_ports_cost_ten_more() {
    let delta_config = DeltaConfig {
        expected: vec![ExpectedPorts {
            networks: vec![],
            entries: vec!["web".into()],
            ports: vec![("tcp".into(), 443), ("tcp".into(), 22)],
        }],
        ..DeltaConfig::default()
    };
    let s = snap(
        "default",
        vec![
            target(
                "web",
                "192.0.2.1",
                TargetStatus::Completed,
                &["192.0.2.1/32"],
            ),
            target(
                "other",
                "192.0.2.2",
                TargetStatus::Completed,
                &["192.0.2.2/32"],
            ),
        ],
        vec![
            // 22 expected (high: 15); 8080 unexpected (low 0 + 10); 3389 unexpected (30 + 10).
            up(
                "192.0.2.1",
                vec![open(443), open(22), open(8080), open(3389)],
            ),
            // No expectation applies here: 8080 is just low.
            up("192.0.2.2", vec![open(8080)]),
        ],
    );
    let score = score(&s, &delta_config);
    assert_eq!(score.overall, Some(35));
    let entries: Vec<_> = score
        .entries
        .iter()
        .map(|e| (e.entry.as_str(), e.score))
        .collect();
    assert_eq!(entries, [("web", Some(35)), ("other", Some(100))]);
}

#[test]
fn per_entry_scores_and_what_is_not_scored() {
    let s = snap(
        "default",
        vec![
            target(
                "192.0.2.0/29",
                "192.0.2.0/29",
                TargetStatus::Completed,
                &["192.0.2.0/29"],
            ),
            // An entry of two atoms, one of which failed: scored over the completed one.
            target(
                "192.0.2.1, 198.51.100.1",
                "192.0.2.1",
                TargetStatus::Completed,
                &["192.0.2.1/32"],
            ),
            target(
                "192.0.2.1, 198.51.100.1",
                "198.51.100.1",
                TargetStatus::Failed,
                &["198.51.100.1/32"],
            ),
            // Nothing of this entry completed: no score, not a perfect one.
            target(
                "203.0.113.0/30",
                "203.0.113.0/30",
                TargetStatus::Timeout,
                &["203.0.113.0/30"],
            ),
        ],
        vec![
            up("192.0.2.1", vec![open(22)]),
            up("192.0.2.2", vec![open(3389)]),
            // Reported by failed/timed-out targets: not scored.
            up("198.51.100.1", vec![open(3389)]),
            up("203.0.113.1", vec![open(3389)]),
        ],
    );
    let score = score(&s, &DeltaConfig::default());
    assert_eq!(score.overall, Some(55), "each host once: 100 - 15 - 30");
    let entries: Vec<_> = score
        .entries
        .iter()
        .map(|e| (e.entry.as_str(), e.score, e.band))
        .collect();
    assert_eq!(
        entries,
        [
            ("192.0.2.0/29", Some(55), Some(Band::Monitor)),
            ("192.0.2.1, 198.51.100.1", Some(85), Some(Band::Good)),
            ("203.0.113.0/30", None, None),
        ]
    );
}

#[test]
fn nothing_completed_has_no_score() {
    let s = snap(
        "default",
        vec![target(
            "192.0.2.0/29",
            "192.0.2.0/29",
            TargetStatus::Failed,
            &["192.0.2.0/29"],
        )],
        vec![],
    );
    let score = score(&s, &DeltaConfig::default());
    assert_eq!((score.overall, score.band), (None, None));
    assert_eq!(score.entries[0].score, None);
    let json = serde_json::to_value(&score).unwrap();
    assert_eq!(json["overall"], serde_json::Value::Null);
}
