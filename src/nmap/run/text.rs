//! Turning what nmap printed into text for people: the stderr tail, failure reasons, the version.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// How many trailing stderr lines a failure reason quotes, and at most how many characters.
const REASON_LINES: usize = 3;
const REASON_CHARS: usize = 400;

/// Keeps the last `cap` bytes pushed into it.
#[derive(Debug)]
pub(super) struct TailBuffer {
    cap: usize,
    bytes: Vec<u8>,
    dropped: u64,
}

impl TailBuffer {
    pub(super) fn new(cap: usize) -> Self {
        TailBuffer {
            cap,
            bytes: Vec::new(),
            dropped: 0,
        }
    }

    pub(super) fn push(&mut self, chunk: &[u8]) {
        if chunk.len() >= self.cap {
            self.dropped += (self.bytes.len() + chunk.len() - self.cap) as u64;
            self.bytes.clear();
            self.bytes
                .extend_from_slice(&chunk[chunk.len() - self.cap..]);
            return;
        }
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > self.cap {
            let excess = self.bytes.len() - self.cap;
            self.bytes.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    /// Lossy UTF-8. When bytes were dropped, the partial first line is dropped too and a marker
    /// line says so.
    pub(super) fn into_string(self) -> String {
        if self.dropped == 0 {
            return String::from_utf8_lossy(&self.bytes).into_owned();
        }
        let cut = self
            .bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let dropped = self.dropped + cut as u64;
        format!(
            "[... {dropped} earlier bytes of stderr dropped ...]\n{}",
            String::from_utf8_lossy(&self.bytes[cut..])
        )
    }
}

/// Why a non-zero exit failed, quoting the end of stderr (where nmap says what went wrong).
pub(super) fn exit_reason(status: ExitStatus, stderr: &str) -> String {
    let what = match (status.code(), status.signal()) {
        (Some(code), _) => format!("nmap exited with code {code}"),
        (None, Some(sig)) => format!("nmap was killed by signal {sig}{}", signal_name(sig)),
        (None, None) => format!("nmap ended abnormally ({status})"),
    };
    let said = stderr_summary(stderr);
    if said.is_empty() {
        format!("{what} and printed nothing on stderr")
    } else {
        format!("{what}: {said}")
    }
}

/// The last few non-blank stderr lines, joined with ` | ` and shortened to `REASON_CHARS`.
fn stderr_summary(stderr: &str) -> String {
    let mut lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .rev()
        .take(REASON_LINES)
        .collect();
    lines.reverse();
    truncate_chars(&lines.join(" | "), REASON_CHARS)
}

pub(super) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// Extracts `7.93` from `Nmap version 7.93 ( https://nmap.org )`.
pub(super) fn parse_version(stdout: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stdout);
    let version = text
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("Nmap version "))?
        .split_whitespace()
        .next()?;
    let plausible = version.len() <= 32
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    plausible.then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_buffer_keeps_everything_under_the_cap() {
        let mut t = TailBuffer::new(10);
        t.push(b"abc\n");
        t.push(b"def");
        assert_eq!(t.into_string(), "abc\ndef");
    }

    #[test]
    fn tail_buffer_keeps_the_last_bytes_and_whole_lines() {
        let mut t = TailBuffer::new(10);
        t.push(b"first line\n");
        t.push(b"ab\ncd\nef");
        assert_eq!(t.bytes, b"e\nab\ncd\nef");
        assert_eq!(
            t.into_string(),
            "[... 11 earlier bytes of stderr dropped ...]\nab\ncd\nef"
        );
    }

    #[test]
    fn tail_buffer_handles_a_chunk_larger_than_the_cap() {
        let mut t = TailBuffer::new(4);
        t.push(b"xy");
        t.push(b"0123456789");
        assert_eq!(t.bytes, b"6789");
        assert_eq!(t.dropped, 8);
        let mut zero = TailBuffer::new(0);
        zero.push(b"abc");
        assert!(zero.bytes.is_empty());
    }

    #[test]
    fn tail_buffer_is_lossy_about_bad_utf8() {
        let mut t = TailBuffer::new(16);
        t.push(b"ok \xff\n");
        assert_eq!(t.into_string(), "ok \u{fffd}\n");
    }

    #[test]
    fn stderr_summary_quotes_the_last_non_blank_lines() {
        let stderr =
            "Starting Nmap\n\nFailed to resolve \"x\".\n  WARNING: No targets\nQUITTING!\n\n";
        assert_eq!(
            stderr_summary(stderr),
            "Failed to resolve \"x\". | WARNING: No targets | QUITTING!"
        );
        assert_eq!(stderr_summary("\n \n"), "");
        let long = "é".repeat(1000);
        assert_eq!(stderr_summary(&long).chars().count(), REASON_CHARS + 3);
    }

    #[test]
    fn exit_reason_names_code_or_signal() {
        let code1 = ExitStatus::from_raw(1 << 8);
        assert_eq!(
            exit_reason(code1, "boom\n"),
            "nmap exited with code 1: boom"
        );
        assert_eq!(
            exit_reason(code1, ""),
            "nmap exited with code 1 and printed nothing on stderr"
        );
        let killed = ExitStatus::from_raw(9);
        assert!(exit_reason(killed, "").starts_with("nmap was killed by signal 9 (SIGKILL)"));
    }

    #[test]
    fn parse_version_reads_nmaps_banner() {
        let out = b"\nNmap version 7.93 ( https://nmap.org )\nPlatform: x86_64-pc-linux-gnu\n";
        assert_eq!(parse_version(out).as_deref(), Some("7.93"));
        assert_eq!(
            parse_version(b"Nmap version 7.95SVN ( x )").as_deref(),
            Some("7.95SVN")
        );
        assert_eq!(parse_version(b"garbage"), None);
        assert_eq!(parse_version(b"Nmap version ( x )"), None);
        assert_eq!(parse_version(b"Nmap version <script>"), None);
        assert_eq!(parse_version(b""), None);
    }
}
