//! Everything that touches the nmap program: running it (`run`), reading its XML (`xml`), and
//! [`scan`], the two together with the rule that only a complete, successful document counts.

pub mod run;
pub mod xml;

use std::time::Duration;

use crate::model::ScanResult;
use run::{NmapInvocation, RunOutcome};

/// How one nmap invocation ended, once its output has been read.
#[derive(Debug)]
pub enum ScanOutcome {
    /// nmap exited 0 and wrote a complete document that does not report an error.
    Completed(ScanResult),
    /// Anything else: nmap missing or crashing, incomplete or garbage XML, or nmap's own
    /// `exit="error"`. Never to be read as "no hosts" or "no open ports".
    Failed(String),
    TimedOut,
}

/// The outcome with what the logs and reports need about the process.
#[derive(Debug)]
pub struct Scan {
    pub outcome: ScanOutcome,
    pub duration: Duration,
    pub exit_code: Option<i32>,
    pub stderr: String,
    pub command_line: Vec<String>,
}

/// Runs nmap once and parses its XML. nmap that fails early can still print a well-formed
/// document (`<finished exit="error" errormsg=...>`), so success needs both exit status 0 and
/// a document that does not say it failed.
pub fn scan(inv: &NmapInvocation) -> Scan {
    let report = run::run(inv);
    let outcome = match report.outcome {
        RunOutcome::Completed { xml } => outcome_of_document(&xml),
        RunOutcome::Failed { reason } => ScanOutcome::Failed(reason),
        RunOutcome::TimedOut => ScanOutcome::TimedOut,
    };
    Scan {
        outcome,
        duration: report.duration,
        exit_code: report.exit_code,
        stderr: report.stderr,
        command_line: report.command_line,
    }
}

/// Judges nmap's stdout after a zero exit status.
pub fn outcome_of_document(xml: &[u8]) -> ScanOutcome {
    match xml::parse_bytes(xml) {
        Ok(result) if result.runstats.exit == "error" => {
            let msg = result.runstats.errormsg.trim();
            ScanOutcome::Failed(if msg.is_empty() {
                "nmap reported an error and no message".to_string()
            } else {
                format!("nmap reported an error: {msg}")
            })
        }
        Ok(result) => ScanOutcome::Completed(result),
        Err(e) => ScanOutcome::Failed(format!("unusable nmap output: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    #[test]
    fn nmap_error_document_is_a_failure() {
        match outcome_of_document(&fixture("loopback/error_exit.xml")) {
            ScanOutcome::Failed(reason) => assert!(reason.starts_with("nmap reported an error")),
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn garbage_and_truncated_output_are_failures() {
        assert!(matches!(
            outcome_of_document(b"Starting Nmap... not XML"),
            ScanOutcome::Failed(_)
        ));
        let xml = fixture("peer/libnmap/libnmap__test__files__1_hosts_incomplete.xml");
        match outcome_of_document(&xml) {
            ScanOutcome::Failed(reason) => assert!(reason.contains("incomplete"), "{reason}"),
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn a_real_capture_is_completed() {
        let outcome = outcome_of_document(&fixture("peer/ndiff/simple.xml"));
        let ScanOutcome::Completed(result) = outcome else {
            panic!("expected Completed, got {outcome:?}");
        };
        assert!(!result.hosts.is_empty());
    }
}
