//! `--dry-run`: the plan as text (targets, nmap runs, exact command lines).

use std::fmt::Write as _;

use super::Prepared;
use crate::config::Config;
use crate::nmap::run as nmap_run;
use crate::report::text::count;

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
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\nWarnings:");
            for w in &self.warnings {
                let _ = writeln!(out, "  {w}");
            }
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
/// What a real run would stumble on that the plan does not show: a `[[webhook]]` whose
/// `token_env` names a variable that is not set here (the run would record that webhook as
/// failed and send nothing). `env` reads the environment (injected for tests).
pub fn config_warnings(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, hook) in config.webhook.iter().enumerate() {
        if let Some(var) = &hook.token_env
            && env(var).is_none_or(|v| v.trim().is_empty())
        {
            let name = if hook.name.is_empty() {
                format!("webhook[{i}]")
            } else {
                format!("webhook {:?}", hook.name)
            };
            out.push(format!(
                "warning: {name}: token_env {var} is not set in this environment; a run would \
                 record the webhook as failed and send nothing"
            ));
        }
    }
    out
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
