//! `targets.txt`: one entry a line (an atom or a comma list), `#` comments, blank lines.

use std::fmt;
use std::path::Path;

use super::{Target, TargetError};

/// Longest accepted line, comments included.
pub const MAX_LINE_LEN: usize = 4096;
/// Largest accepted targets file.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One non-blank line of a targets file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    /// 1-based line number.
    pub line: usize,
    /// The entry as written, comment and surrounding whitespace removed.
    pub text: String,
    pub targets: Vec<Target>,
}

/// A targets file that cannot be used, naming the file, line and entry.
#[derive(Debug, thiserror::Error)]
pub enum TargetFileError {
    #[error("{origin}:{line}: `{}` : {source}", shown(entry))]
    Entry {
        origin: String,
        line: usize,
        entry: String,
        #[source]
        source: TargetError,
    },
    #[error("{origin}: cannot read: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {size} bytes, more than the limit of {limit}")]
    TooLarge {
        origin: String,
        size: u64,
        limit: u64,
    },
}

impl TargetFileError {
    /// The target error behind an entry error, if that is what this is.
    pub fn target_error(&self) -> Option<&TargetError> {
        match self {
            TargetFileError::Entry { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The entry as it may be shown: control characters escaped, long text shortened.
fn shown(entry: &str) -> String {
    const MAX: usize = 80;
    let mut out: String = entry
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if entry.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Parses a whole targets file held in memory; `origin` names it in error messages. Stops at
/// the first bad entry: a run never starts on a partly understood file.
pub fn parse_targets(text: &str, origin: &str) -> Result<Vec<TargetEntry>, TargetFileError> {
    let mut entries = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let error = |entry: &str, source| TargetFileError::Entry {
            origin: origin.to_string(),
            line,
            entry: entry.to_string(),
            source,
        };
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.len() > MAX_LINE_LEN {
            let head: String = raw.chars().take(40).collect();
            return Err(error(
                &head,
                TargetError::TooLong {
                    len: raw.len(),
                    limit: MAX_LINE_LEN,
                },
            ));
        }
        let content = raw.split_once('#').map_or(raw, |(before, _)| before);
        let text = content.trim_matches([' ', '\t']);
        if text.is_empty() {
            continue;
        }
        let mut targets = Vec::new();
        for item in text.split(',') {
            let item = item.trim_matches([' ', '\t']);
            let target = Target::parse(item).map_err(|source| error(text, source))?;
            targets.push(target);
        }
        entries.push(TargetEntry {
            line,
            text: text.to_string(),
            targets,
        });
    }
    Ok(entries)
}

/// Reads and parses a targets file (at most [`MAX_FILE_BYTES`], UTF-8).
pub fn parse_targets_file(path: &Path) -> Result<Vec<TargetEntry>, TargetFileError> {
    let origin = path.display().to_string();
    let io = |source| TargetFileError::Io {
        origin: origin.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(TargetFileError::TooLarge {
            origin,
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    parse_targets(&text, &origin)
}

impl fmt::Display for TargetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_comments_and_lists() {
        let text = "# loopback hosts\n\
                    \n\
                    127.0.0.1\n\
                    localhost   # trailing comment\r\n\
                    \t127.0.0.0/29\n\
                    127.0.0.1,127.0.0.5 , ::1\n\
                    127.0.0.1-20#no space before the comment\n\
                    \x20  # indented comment\n";
        let entries = parse_targets(text, "targets.txt").unwrap();
        let summary: Vec<(usize, &str, usize)> = entries
            .iter()
            .map(|e| (e.line, e.text.as_str(), e.targets.len()))
            .collect();
        assert_eq!(
            summary,
            [
                (3, "127.0.0.1", 1),
                (4, "localhost", 1),
                (5, "127.0.0.0/29", 1),
                (6, "127.0.0.1,127.0.0.5 , ::1", 3),
                (7, "127.0.0.1-20", 1),
            ]
        );
        assert_eq!(entries[3].targets[2], Target::Ip("::1".parse().unwrap()));
    }

    #[test]
    fn empty_file_has_no_entries() {
        assert!(parse_targets("", "t").unwrap().is_empty());
        assert!(parse_targets("\n# only\n\n", "t").unwrap().is_empty());
    }

    #[test]
    fn error_names_file_line_and_entry() {
        let err = parse_targets("127.0.0.1\n\n# c\n\n\n\n10.0.0.1-\n", "targets.txt").unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("targets.txt:7: `10.0.0.1-` : invalid address range"),
            "{message}"
        );
        assert!(matches!(
            err.target_error(),
            Some(TargetError::InvalidRange { .. })
        ));
    }

    #[test]
    fn hostile_lines_are_refused_and_escaped() {
        let cases = [
            ("127.0.0.1 -p 1", "Whitespace"),
            ("127.0.0.1,-oX /tmp/x", "LooksLikeOption"),
            ("127.0.0.1,-oX", "LooksLikeOption"),
            ("127.0.0.1,,127.0.0.2", "Empty"),
            ("127.0.0.1,", "Empty"),
            ("127.0.0.1\u{1b}[2J", "ControlCharacter"),
            ("127.0.0.1;id", "InvalidCharacter"),
        ];
        for (line, variant) in cases {
            let err = parse_targets(line, "t").unwrap_err();
            let debug = format!("{:?}", err.target_error().unwrap());
            assert!(debug.starts_with(variant), "{line:?}: {debug}");
        }
        let err = parse_targets("127.0.0.1\u{1b}[2J", "t").unwrap_err();
        assert!(err.to_string().contains("\\u{1b}"), "{err}");
    }

    #[test]
    fn overlong_line_is_refused_without_echoing_it() {
        let text = format!("127.0.0.1,{}", "127.0.0.2,".repeat(500));
        let err = parse_targets(&text, "t").unwrap_err();
        assert!(matches!(
            err.target_error(),
            Some(TargetError::TooLong { .. })
        ));
        assert!(err.to_string().len() < 300);
    }

    #[test]
    fn file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.txt");
        let err = parse_targets_file(&missing).unwrap_err();
        assert!(matches!(err, TargetFileError::Io { .. }));
        assert!(err.to_string().contains("missing.txt"), "{err}");

        let binary = dir.path().join("binary.txt");
        std::fs::write(&binary, [0xff, 0xfe, b'\n']).unwrap();
        assert!(matches!(
            parse_targets_file(&binary),
            Err(TargetFileError::Io { .. })
        ));

        let good = dir.path().join("targets.txt");
        std::fs::write(&good, "127.0.0.1\n::1 # v6\n").unwrap();
        assert_eq!(parse_targets_file(&good).unwrap().len(), 2);

        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, "127.0.0.1\n$(id)\n").unwrap();
        let err = parse_targets_file(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.txt:2: `$(id)`"), "{err}");
    }
}
