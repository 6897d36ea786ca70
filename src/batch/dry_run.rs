//! `--dry-run`: the plan as text (targets, nmap runs, exact command lines).

use std::fmt::Write as _;

use super::Prepared;
use crate::nmap::run as nmap_run;

impl Prepared {
    /// The plan as `--dry-run` prints it: targets, chunks and the exact nmap command lines.
    pub fn describe(&self) -> String {
        let p = &self.plan;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Plan for {} (profile {}): {}, {}, {} of at most {} addresses, {} at a time, \
             each stopped after {} s",
            self.targets_file.display(),
            self.profile_label,
            count(p.targets.len() as u64, "target"),
            count(p.addresses, "address"),
            count(p.chunks.len() as u64, "nmap run"),
            self.chunk_size,
            self.parallel,
            self.timeout.as_secs()
        );
        let _ = writeln!(out, "\nTargets:");
        let width = p.targets.iter().map(|t| t.target.len()).max().unwrap_or(0);
        for t in &p.targets {
            let what = match &t.covers {
                Ok(_) => {
                    let runs: Vec<String> = t.chunks.iter().map(|c| (c + 1).to_string()).collect();
                    let which = if runs.len() == 1 { "run" } else { "runs" };
                    format!(
                        "{}, nmap {which} {}",
                        count(t.addresses, "address"),
                        runs.join(", ")
                    )
                }
                Err(u) => format!("{}: {}", u.status.as_str(), u.error),
            };
            let _ = writeln!(
                out,
                "  {}:{:<5} {:<width$}  {what}",
                self.targets_file.display(),
                t.line,
                t.target
            );
        }
        let _ = writeln!(out, "\nnmap runs:");
        for (i, c) in p.chunks.iter().enumerate() {
            let argv = nmap_run::command_line(&self.invocation(c));
            let _ = writeln!(
                out,
                "  {}. {}: {}",
                i + 1,
                count(c.addresses, "address"),
                shell_words(&argv)
            );
        }
        if self.tls {
            let _ = writeln!(
                out,
                "\nThen the TLS pass: one nmap run with --script +ssl-cert,+ssl-enum-ciphers over \
                 the open TCP ports that speak TLS (tunnel ssl, a TLS service name, or [tls] \
                 ports); --no-tls skips it."
            );
        }
        out
    }
}

/// `1 address`, `2 addresses`.
fn count(n: u64, noun: &str) -> String {
    match (n, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// An argv as a reader can paste it into a shell (single-quoted where needed).
pub(super) fn shell_words(argv: &[String]) -> String {
    let word = |w: &String| {
        if !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:,=+@%".contains(c))
        {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', r"'\''"))
        }
    };
    argv.iter().map(word).collect::<Vec<_>>().join(" ")
}
