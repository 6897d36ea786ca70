//! `scan.json` (a serialised [`Snapshot`]) and `delta.json` (a serialised [`Delta`]).
//!
//! Both are plain serde output of the types, so their shape is the types' documented shape
//! and `serde_json::from_reader` reads them back.

use std::io::{self, Write};

use crate::delta::Delta;
use crate::snapshot::Snapshot;

pub fn write_snapshot<W: Write>(out: &mut W, snapshot: &Snapshot) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, snapshot).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

pub fn write_delta<W: Write>(out: &mut W, delta: &Delta) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, delta).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::{DeltaConfig, compare};
    use crate::model::ScanResult;
    use jiff::Timestamp;

    #[test]
    fn both_files_read_back_as_the_same_values() {
        let result: ScanResult = crate::nmap::xml::parse_bytes(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/loopback/sv_two_hosts.xml"
            ))
            .unwrap(),
        )
        .unwrap();
        let snap = Snapshot::from_scan_result(&result, "f.xml", "p", Timestamp::UNIX_EPOCH);
        let delta = compare(None, &snap, &DeltaConfig::default());

        let mut buf = Vec::new();
        write_snapshot(&mut buf, &snap).unwrap();
        assert!(buf.ends_with(b"}\n"));
        assert_eq!(serde_json::from_slice::<Snapshot>(&buf).unwrap(), snap);

        let mut buf = Vec::new();
        write_delta(&mut buf, &delta).unwrap();
        assert_eq!(serde_json::from_slice::<Delta>(&buf).unwrap(), delta);
    }
}
