//! `delta.csv`: one row per change, for spreadsheets and scripts. Cells go through
//! [`super::csv`], so a hostile banner cannot become a formula.

use std::io::{self, Write};

use super::csv::write_record;
use crate::delta::{Change, Delta, PortView};

pub const HEADER: [&str; 14] = [
    "kind",
    "severity",
    "ip",
    "protocol",
    "port",
    "unexpected",
    "before_state",
    "before_service",
    "before_product",
    "before_version",
    "after_state",
    "after_service",
    "after_product",
    "after_version",
];

/// The header, then one row per change in the delta's order. Host changes leave the port
/// columns empty.
pub fn write<W: Write>(out: &mut W, delta: &Delta) -> io::Result<()> {
    write_record(out, &HEADER)?;
    for change in &delta.changes {
        write_record(out, &row(change))?;
    }
    Ok(())
}

fn row(c: &Change) -> Vec<String> {
    let view = |v: Option<&PortView>| match v {
        Some(v) => [
            v.state.clone(),
            v.service.clone(),
            v.product.clone(),
            v.version.clone(),
        ],
        None => Default::default(),
    };
    let mut row = vec![
        c.kind.as_str().to_string(),
        c.severity.as_str().to_string(),
        c.ip.clone(),
    ];
    match &c.port {
        Some(p) => {
            row.extend([
                p.protocol.clone(),
                p.port.to_string(),
                p.unexpected.to_string(),
            ]);
            row.extend(view(p.before.as_ref()));
            row.extend(view(p.after.as_ref()));
        }
        None => row.extend(std::iter::repeat_n(String::new(), HEADER.len() - 3)),
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::{ChangeKind, DeltaStatus, PortChange, Score, SnapshotRef, Summary};
    use crate::model::Severity;

    fn delta(changes: Vec<Change>) -> Delta {
        let side = SnapshotRef {
            snapshot: Some(1),
            file: None,
            started_at: jiff::Timestamp::UNIX_EPOCH,
            profile: "default".into(),
        };
        Delta {
            from: Some(side.clone()),
            to: side,
            status: DeltaStatus::Changes,
            note: None,
            score: Score {
                overall: Some(100),
                band: None,
                entries: vec![],
            },
            summary: Summary::default(),
            changes,
            not_compared: vec![],
            unconfirmed: vec![],
            incomplete: None,
        }
    }

    #[test]
    fn one_row_per_change_hostile_text_defused() {
        let view = |version: &str| PortView {
            state: "open".into(),
            service: "ssh".into(),
            product: "OpenSSH".into(),
            version: version.into(),
        };
        let d = delta(vec![
            Change {
                kind: ChangeKind::NewHost,
                severity: Severity::Medium,
                ip: "127.0.0.2".into(),
                port: None,
            },
            Change {
                kind: ChangeKind::ServiceChanged,
                severity: Severity::Low,
                ip: "127.0.0.2".into(),
                port: Some(PortChange {
                    protocol: "tcp".into(),
                    port: 22,
                    before: Some(view("8.9")),
                    after: Some(view("=cmd|' /C calc'!A0")),
                    unexpected: false,
                }),
            },
        ]);
        let mut buf = Vec::new();
        write(&mut buf, &d).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines[1], "new_host,medium,127.0.0.2,,,,,,,,,,,");
        assert_eq!(
            lines[2],
            "service_changed,low,127.0.0.2,tcp,22,false,open,ssh,OpenSSH,8.9,open,ssh,OpenSSH,\
             \"'=cmd|' /C calc'!A0\""
        );
        assert_eq!(lines[3], "");
    }
}
